"""Seeded picks of images to show: N per class, or N at random."""
from __future__ import annotations

import numpy as np


def per_class(labels: np.ndarray, pool: np.ndarray, n: int, seed: int,
              class_ids: list[int] | None = None) -> dict[int, np.ndarray]:
    """Up to n indices (from pool) for each class id, in a seeded random order."""
    rng = np.random.default_rng(seed)
    ids = sorted(set(labels[pool].tolist())) if class_ids is None else class_ids
    out = {}
    for cid in ids:
        members = pool[labels[pool] == cid]
        out[cid] = rng.permutation(members)[:n]
    return out


def random(pool: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Up to n indices from pool without replacement, seeded."""
    rng = np.random.default_rng(seed)
    return rng.permutation(pool)[:n]
