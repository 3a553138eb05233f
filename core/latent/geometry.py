"""Geometry of codes: class centres, distances, and "disputable" images about as close to another
class centre as to their own (plus the classifier-margin ranking they are compared with)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import UserError


def class_centres(codes: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean code per class (rows of absent classes are NaN)."""
    centres = np.full((n_classes, codes.shape[1]), np.nan)
    for c in range(n_classes):
        if (labels == c).any():
            centres[c] = codes[labels == c].mean(0)
    return centres


def distances(codes: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, K) Euclidean distances, via |z|^2 - 2 z.c + |c|^2 so no (N, K, D) array is built."""
    sq = (codes ** 2).sum(1)[:, None] - 2 * codes @ points.T + (points ** 2).sum(1)[None, :]
    return np.sqrt(np.maximum(sq, 0.0))


def nearest_rows(codes: np.ndarray, points: np.ndarray) -> np.ndarray:
    """For each point, the row of the closest code (the real image nearest a centre)."""
    return distances(codes, points).argmin(0)


@dataclass
class Disputable:
    rows: np.ndarray  # ranked, most disputable first
    own: np.ndarray  # distance to the own class centre
    other: np.ndarray  # distance to the nearest other centre
    other_class: np.ndarray
    measure: np.ndarray  # what the tolerance is compared with (smaller = more disputable)


def disputable(codes: np.ndarray, labels: np.ndarray, centres: np.ndarray, tol: float,
               mode: str = "ratio") -> Disputable:
    """Images about as close to another class centre as to their own.

    ratio:      |1 - d_own / d_other| < tol   (scale-free)
    difference: |d_own - d_other| < tol       (the clocks/crocodiles project's rule, tol 0.2,
                                               in the units of the codes)
    """
    present = ~np.isnan(centres).any(1)
    if present.sum() < 2:
        raise UserError("disputable images need at least two classes with images")
    d = distances(codes.astype(np.float64), np.nan_to_num(centres))
    d[:, ~present] = np.inf
    own = d[np.arange(len(labels)), labels]
    d_other = d.copy()
    d_other[np.arange(len(labels)), labels] = np.inf
    other_class = d_other.argmin(1)
    other = d_other.min(1)
    if mode == "ratio":
        measure = np.abs(1 - own / np.maximum(other, 1e-12))
    elif mode == "difference":
        measure = np.abs(own - other)
    else:
        raise UserError(f"unknown rule {mode!r}: ratio or difference")
    chosen = np.flatnonzero(measure < tol)
    ranked = chosen[np.argsort(measure[chosen], kind="stable")]
    return Disputable(ranked, own, other, other_class, measure)


def lowest_margin(proba: np.ndarray) -> np.ndarray:
    """Rows ranked by classifier margin (top-1 minus top-2 probability), smallest first."""
    top = np.sort(proba, axis=1)
    return np.argsort(top[:, -1] - top[:, -2], kind="stable")
