"""Seeded picks of images to show: N per class, or N at random, from a pool of rows."""
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


def pool(labels: np.ndarray, class_ids: list[int], rows: np.ndarray | None = None) -> np.ndarray:
    """The rows (all images when None) whose label is one of class_ids, in their order."""
    rows = np.arange(len(labels)) if rows is None else rows
    return rows[np.isin(labels[rows], class_ids)]


def class_sizes(labels: np.ndarray, pool: np.ndarray, n_classes: int) -> np.ndarray:
    """How many rows of pool each class id has."""
    return np.bincount(labels[pool], minlength=n_classes)


def stratified(rows: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Up to n of rows (already ranked) with every group as equally represented as its size
    allows: a gallery of a selection then shows each class it holds, not the first few. Groups
    come out one after another, in order of group value, each in its ranked order."""
    rows, groups = np.asarray(rows), np.asarray(groups)
    values, sizes = np.unique(groups, return_counts=True)
    quota = np.zeros(len(values), dtype=int)
    left = min(n, len(rows))
    while left > 0:  # deal one per group in turn, skipping full groups
        open_groups = np.flatnonzero(quota < sizes)
        share = max(1, left // len(open_groups))
        for g in open_groups:
            take = min(share, sizes[g] - quota[g], left)
            quota[g] += take
            left -= take
            if left == 0:
                break
    picked = [rows[groups == v][:q] for v, q in zip(values, quota)]
    return np.concatenate(picked) if picked else rows[:0]
