"""A clicked image's nearest neighbours in code space, and its nearest image of another class:
what the model thinks it resembles, and where the border to another class is closest."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import UserError

K_MAX = 50


@dataclass
class Neighbours:
    row: int
    rows: np.ndarray  # the k nearest other images, nearest first (ties: lower row first)
    distances: np.ndarray  # Euclidean, in code space
    other_row: int | None  # the nearest image of another class (None: one class only)
    other_distance: float | None


def neighbours_of(codes: np.ndarray, labels: np.ndarray, row: int, k: int = 8) -> Neighbours:
    """Exact k nearest neighbours of codes[row] among the other rows (the image itself left
    out), plus the nearest row whose label differs."""
    codes = np.asarray(codes, dtype=np.float64)
    labels = np.asarray(labels)
    if not 0 <= row < len(codes):
        raise UserError(f"image #{row} is not in this dataset of {len(codes):,} images")
    if not 1 <= k <= K_MAX:
        raise UserError(f"k must be from 1 to {K_MAX}, not {k}")
    d = np.sqrt(np.maximum(((codes - codes[row]) ** 2).sum(axis=1), 0.0))
    others = np.delete(np.arange(len(codes)), row)
    order = others[np.lexsort((others, d[others]))][:k]
    foreign = np.flatnonzero(labels != labels[row])
    other = int(foreign[np.lexsort((foreign, d[foreign]))[0]]) if len(foreign) else None
    return Neighbours(int(row), order, d[order], other,
                      None if other is None else float(d[other]))
