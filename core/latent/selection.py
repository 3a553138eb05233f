"""What a box or lasso on the map selected: the rows, how many of each class, and a sample of
them stratified by class for the gallery (the first 60 of a 627-point box were all one class)."""
from __future__ import annotations

import numpy as np


def class_counts(rows: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes,) how many of the selected rows are of each class."""
    return np.bincount(labels[rows], minlength=n_classes)


def stratified_sample(rows: np.ndarray, labels: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """At most k of rows, each class present getting a share proportional to its count (largest
    remainders first, at least one per class while k allows), drawn at random with a seed and
    returned grouped by class, largest class first."""
    rows = np.asarray(rows)
    if len(rows) <= k:
        return rows
    classes, counts = np.unique(labels[rows], return_counts=True)
    order = np.argsort(-counts, kind="stable")
    classes, counts = classes[order], counts[order]
    quota = np.zeros(len(classes), dtype=int)
    guaranteed = min(k, len(classes))
    quota[:guaranteed] = 1  # every class shows up (the biggest first when k is smaller)
    left = k - guaranteed
    if left:
        share = (counts - quota) / (counts - quota).sum() * left
        quota += np.floor(share).astype(int)
        remainder = k - quota.sum()
        quota[np.argsort(-(share - np.floor(share)), kind="stable")[:remainder]] += 1
    rng = np.random.default_rng(seed)
    picked = [np.sort(rng.choice(rows[labels[rows] == c], q, replace=False))
              for c, q in zip(classes, np.minimum(quota, counts)) if q]
    return np.concatenate(picked)
