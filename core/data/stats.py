"""Numbers the Data page shows: counts per split and class, imbalance, pixel statistics."""
from __future__ import annotations

import numpy as np

from core.data.dataset import ImageDataset
from core.data.splits import SPLITS


def class_counts(ds: ImageDataset) -> dict[str, np.ndarray]:
    """{split: images per class}; splits with no images are left out."""
    out = {}
    for code, name in enumerate(SPLITS):
        labels = ds.labels[ds.split == code]
        if len(labels):
            out[name] = np.bincount(labels, minlength=len(ds.classes))
    return out


def imbalance_ratio(counts: np.ndarray) -> float:
    """Largest class over smallest; inf when a class has no images at all."""
    counts = np.asarray(counts)
    return float("inf") if counts.min() == 0 else float(counts.max() / counts.min())


def pixel_stats(images: np.ndarray, max_images: int = 20_000, seed: int = 0) -> dict:
    """Per-channel mean/std/min/max on the 0..255 scale (on a stated sample for large sets)."""
    sample = images
    if len(images) > max_images:
        idx = np.random.default_rng(seed).choice(len(images), max_images, replace=False)
        sample = images[np.sort(idx)]
    x = sample.astype(np.float32)
    axes = (0, 2, 3)
    return {
        "mean": x.mean(axis=axes).tolist(),
        "std": x.std(axis=axes).tolist(),
        "min": sample.min(axis=axes).tolist(),
        "max": sample.max(axis=axes).tolist(),
        "sampled": int(len(sample)),
        "total": int(len(images)),
    }


def summary(ds: ImageDataset) -> dict:
    counts = class_counts(ds)
    c, h, w = ds.shape
    return {
        "spec": ds.spec.to_text(),
        "classes": list(ds.classes),
        "n_classes": len(ds.classes),
        "channels": c,
        "height": h,
        "width": w,
        "images": {split: int(n.sum()) for split, n in counts.items()},
        "per_class": {split: n.tolist() for split, n in counts.items()},
        "imbalance_ratio": {split: imbalance_ratio(n) for split, n in counts.items()},
        "pixels": pixel_stats(ds.images),
        "skipped": [list(s) for s in ds.skipped],
    }
