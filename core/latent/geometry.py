"""Geometry of codes: class centres, distances, and "disputable" images about as close to another
class centre as to their own (plus the classifier-margin ranking they are compared with), and
`LatentSpace`, a run's codes with the centres and distances the Latent page shows."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from core.errors import UserError

if TYPE_CHECKING:
    from core.data.dataset import ImageDataset
    from core.latent.features import Features


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


def check_tolerance(tol: object) -> float:
    """tol as a float; a UserError unless it is a finite number above 0 (NaN compares false with
    everything, so it would silently select nothing)."""
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating, np.integer)) \
            or not math.isfinite(tol) or tol <= 0:
        raise UserError(f"the disputable tolerance must be a finite number above 0, not {str(tol)[:40]}")
    return float(tol)


def disputable(codes: np.ndarray, labels: np.ndarray, centres: np.ndarray, tol: float,
               mode: str = "ratio") -> Disputable:
    """Images about as close to another class centre as to their own.

    ratio:      |1 - d_own / d_other| < tol   (scale-free)
    difference: |d_own - d_other| < tol       (the clocks/crocodiles project's rule, tol 0.2,
                                               in the units of the codes)
    """
    check_tolerance(tol)
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


def margins(proba: np.ndarray) -> np.ndarray:
    """Each row's classifier margin: top-1 minus top-2 probability."""
    top = np.sort(proba, axis=1)
    return top[:, -1] - top[:, -2]


def lowest_margin(proba: np.ndarray) -> np.ndarray:
    """Rows ranked by classifier margin (top-1 minus top-2 probability), smallest first."""
    return np.argsort(margins(proba), kind="stable")


@dataclass
class LatentSpace:
    """A run's codes for every image of its dataset, with its labels and splits, the TRAINING
    class centres, and what is measured against them (distances, disputable images, margins)."""

    ds: ImageDataset
    features: Features

    @property
    def labels(self) -> np.ndarray:
        return np.asarray(self.ds.labels)

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.ds.classes]

    @property
    def classifier(self) -> bool:
        """Has class probabilities (a classifier run): predictions, margins, mistakes."""
        return self.features.proba is not None

    @property
    def predicted(self) -> np.ndarray | None:
        return None if self.features.proba is None else self.features.proba.argmax(1)

    @property
    def train(self) -> np.ndarray:
        return self.ds.indices("train")

    @property
    def test(self) -> np.ndarray:
        return self.ds.indices("test")

    @cached_property
    def centres(self) -> np.ndarray:
        """(K, D) mean training code per class (NaN rows for classes without training images)."""
        return class_centres(self.features.codes[self.train], self.labels[self.train],
                             len(self.classes))

    @property
    def has_centre(self) -> np.ndarray:
        """(K,) bool: classes with training images, so with a centre."""
        return ~np.isnan(self.centres).any(1)

    @cached_property
    def own_distance(self) -> np.ndarray:
        """Each image's distance to its own class centre: an anomaly-like score."""
        d = distances(self.features.codes.astype(np.float64), np.nan_to_num(self.centres))
        return d[np.arange(len(self.labels)), self.labels]

    def split_names(self) -> np.ndarray:
        """Each image's split ("train", "val", "test"; "" for an image in none)."""
        split = np.full(self.features.n, "", dtype=object)
        for s in ("train", "val", "test"):
            split[self.ds.indices(s)] = s
        return split

    def tolerance_max(self, mode: str) -> float:
        """The largest sensible disputable tolerance: 1 for the ratio rule; for the difference
        rule (code units) the median distance of a test code to its own centre, at least 0.25."""
        if mode == "ratio":
            return 1.0
        return max(round(float(np.median(self.own_distance[self.test])), 2), 0.25)

    def disputable_test(self, class_ids: list[int], tol: float,
                        mode: str = "ratio") -> tuple[np.ndarray, Disputable]:
        """(rows, ranking): the test images of the chosen classes, and disputable() on them with
        only those classes' centres to compare with; dataset rows are rows[ranking.rows]."""
        rows = self.test[np.isin(self.labels[self.test], class_ids)]
        centres = self.centres.copy()
        centres[[c for c in range(len(self.classes)) if c not in class_ids]] = np.nan
        return rows, disputable(self.features.codes[rows], self.labels[rows], centres, tol, mode)

    def lowest_margin_test(self) -> np.ndarray:
        """Test rows by classifier margin, smallest first (a classifier run only)."""
        return self.test[lowest_margin(self.features.proba[self.test])]

    def misclassified_test(self) -> np.ndarray:
        """Misclassified test rows, most confident first (a classifier run only)."""
        test, proba = self.test, self.features.proba
        wrong = test[self.predicted[test] != self.labels[test]]
        return wrong[np.argsort(-proba[wrong].max(1), kind="stable")]
