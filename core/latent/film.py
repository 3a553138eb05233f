"""A run's probe set read back (core.training.probes writes it): the answers per epoch, and the
latent film strip, every epoch's codes on one 2-D map.

The map's basis is a PCA fitted on the final epoch's codes; every epoch is projected with that
same basis (and centre), so between two epochs a point moves by what its code changed, rather
than the whole picture flipping or rotating as a per-epoch fit would.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import UserError

DIR = "probes"
MAX_FILE_BYTES = 64 * 2**20  # a probe file is small; anything bigger is not ours
_EPOCH = re.compile(r"^epoch-(\d{4,6})\.npz$")


@dataclass
class ProbeSet:
    images: np.ndarray  # uint8 (n, C, H, W)
    labels: np.ndarray  # int class of each probe image
    classes: tuple[str, ...]
    code_labels: np.ndarray  # class of every coded image: the probes first, then the extra ones


@dataclass
class Film:
    epochs: list[int]
    xy: np.ndarray  # (epochs, images, 2): every epoch in the final epoch's PCA basis
    labels: np.ndarray  # class of each point
    n_probe: int  # the first n_probe points are the probe images
    explained: tuple[float, float]  # variance ratio of the two axes, on the final epoch


def _load(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
        raise UserError(f"{path.name} is not a probe file of this run")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise UserError(f"{path.name} of this run cannot be read ({type(exc).__name__})") from None


def epochs(folder: Path) -> list[int]:
    """Epochs with saved answers, in order."""
    found = (_EPOCH.match(p.name) for p in (Path(folder) / DIR).glob("epoch-*.npz"))
    return sorted(int(m.group(1)) for m in found if m)


def probe_set(folder: Path) -> ProbeSet | None:
    """The run's probe images and labels; None for a run trained before probes were saved."""
    path = Path(folder) / DIR / "images.npz"
    if not path.exists():
        return None
    f = _load(path)
    return ProbeSet(f["images"], f["labels"].astype(np.int64), tuple(str(c) for c in f["classes"]),
                    np.concatenate([f["labels"], f["extra_labels"]]).astype(np.int64))


def answers(folder: Path, epoch: int) -> dict[str, np.ndarray]:
    """One epoch's file: codes, and predicted + confidence or reconstructions."""
    return _load(Path(folder) / DIR / f"epoch-{epoch:04d}.npz")


def film_strip(folder: Path) -> Film | None:
    """Every saved epoch's codes on the final epoch's PCA plane; None without two saved epochs'
    worth of codes (or codes of fewer than 2 dimensions)."""
    from sklearn.decomposition import PCA

    found, probes = epochs(folder), probe_set(folder)
    if not found or probes is None:
        return None
    codes = [answers(folder, e)["codes"].astype(np.float64) for e in found]
    if codes[-1].ndim != 2 or codes[-1].shape[1] < 2 or len(codes[-1]) < 3:
        return None
    pca = PCA(n_components=2, random_state=0).fit(codes[-1])
    xy = np.stack([pca.transform(c) for c in codes if c.shape == codes[-1].shape])
    if len(xy) != len(found):
        raise UserError("the probe files of this run do not match each other")
    ratio = pca.explained_variance_ratio_
    return Film(found, xy.astype(np.float32), probes.code_labels[:xy.shape[1]], len(probes.labels),
                (float(ratio[0]), float(ratio[1])))
