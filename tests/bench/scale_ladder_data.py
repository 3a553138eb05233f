"""The scale ladder's rungs: each writes its files in the real format under a data root (IDX for
MNIST-size, Kuzushiji-49's four .npz for K49-size, 227x227 JPEG class folders) and names the
dataset spec the app would use for them."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tests.data_writers import pattern_images, write_mnist_idx

K49_TRAIN, K49_TEST, K49_CLASSES = 232_365, 38_547, 49


@dataclass(frozen=True)
class Rung:
    name: str
    images: int
    source_title: str  # what the Data page's Source box shows
    classes: int

    def spec(self, root: Path) -> str:
        if self.name == "digits":
            return "digits"
        if self.name == "mnist":
            return f"mnist?root={root}"
        if self.name == "k49":
            return f"k49?root={root / 'k49'}"
        return f"folder?root={root / self.name}&size=32&mode=L"

    def write(self, root: Path) -> None:
        if self.name == "mnist":
            write_mnist_idx(root, n_train=60_000, n_test=10_000)
        elif self.name == "k49":
            write_k49_sized(root / "k49")
        elif self.name.startswith("folders"):
            write_jpeg_folders(root / self.name, self.images)


RUNGS = {r.name: r for r in (
    Rung("digits", 1_797, "Digits (8x8, bundled)", 10),
    Rung("mnist", 70_000, "MNIST", 10),
    Rung("k49", K49_TRAIN + K49_TEST, "Kuzushiji-49", K49_CLASSES),
    Rung("folders2k", 2_000, "Image folder", 2),
    Rung("folders15k", 15_000, "Image folder", 2),
)}


def write_k49_sized(root: Path, seed: int = 0, compressed: bool = True) -> None:
    """k49-{train,test}-{imgs,labels}.npz (key arr_0; compressed like the real files unless told)
    with Kuzushiji-49's sizes and a skewed class balance (largest class ~20x the smallest)."""
    save = np.savez_compressed if compressed else np.savez
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    weights = np.linspace(1, 20, K49_CLASSES)
    for split, n in (("train", K49_TRAIN), ("test", K49_TEST)):
        labels = rng.choice(K49_CLASSES, n, p=weights / weights.sum()).astype(np.uint8)
        labels[:K49_CLASSES] = np.arange(K49_CLASSES)  # every class present
        save(root / f"k49-{split}-imgs.npz", arr_0=pattern_images(labels, K49_CLASSES, (28, 28), rng))
        save(root / f"k49-{split}-labels.npz", arr_0=labels)


def write_jpeg_folders(root: Path, n: int, side: int = 227, seed: int = 0) -> None:
    """root/{Negative,Positive}/NNNNN.jpg: n 227x227 RGB JPEGs, one in 20 Positive (a crack-like
    dark line on textured grey), like the cracks set's imbalance."""
    rng = np.random.default_rng(seed)
    for name in ("Negative", "Positive"):
        (root / name).mkdir(parents=True, exist_ok=True)
    texture = rng.integers(90, 170, (side * 2, side * 2, 3), dtype=np.uint8)
    for i in range(n):
        y, x = rng.integers(0, side, 2)
        pixels = texture[y:y + side, x:x + side].copy()
        positive = i % 20 == 0
        if positive:
            row = int(rng.integers(20, side - 20))
            pixels[row - 2:row + 2] //= 3
        Image.fromarray(pixels).save(root / ("Positive" if positive else "Negative") / f"{i:05d}.jpg",
                                     quality=85)
