"""Data the audit tests write: digits as a folder of PNGs (train/ and test/), with known label
flips and known copies of test images in train."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

N_LEAKS = 20


@dataclass
class LeakyFolder:
    root: Path
    leaked: list[str]  # test file names copied into train (as leak_<name>)


def _digits() -> tuple[np.ndarray, np.ndarray]:
    d = load_digits()
    return (d.images * (255 / 16)).round().astype(np.uint8), d.target


def write_leaky_digits(root: Path, n_leaks: int = N_LEAKS, seed: int = 0) -> LeakyFolder:
    """digits as train/<class>/*.png (the first 1,400) and test/<class>/*.png (the rest), plus
    n_leaks test images copied into train: a third exact, a third with small noise, a third
    shifted by one pixel."""
    images, labels = _digits()
    rng = np.random.default_rng(seed)
    n_train = 1400
    for i, (img, y) in enumerate(zip(images, labels)):
        split = "train" if i < n_train else "test"
        folder = root / split / str(y)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img, "L").save(folder / f"{i:04d}.png")
    leaked = []
    for n, i in enumerate(rng.choice(np.arange(n_train, len(labels)), n_leaks, replace=False)):
        img = images[i].astype(np.int16)
        if n % 3 == 1:
            img = img + rng.integers(-6, 7, img.shape)
        elif n % 3 == 2:
            img = np.roll(img, 1, axis=int(rng.integers(0, 2)))
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "L").save(
            root / "train" / str(labels[i]) / f"leak_{i:04d}.png")
        leaked.append(f"{i:04d}.png")
    return LeakyFolder(root, leaked)
