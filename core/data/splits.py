"""Train/val/test splits and the normal-vs-anomaly view used for anomaly work."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import DatasetError

SPLITS = ("train", "val", "test")
TRAIN, VAL, TEST = 0, 1, 2


def _stratified_take(pool: np.ndarray, labels: np.ndarray, fraction: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Take about `fraction` of `pool` from every class (at least one if the class has two)."""
    taken = []
    for cls in np.unique(labels[pool]):
        members = pool[labels[pool] == cls]
        n = int(round(fraction * len(members)))
        if len(members) >= 2:
            n = min(max(n, 1), len(members) - 1)  # never empty a class out of the pool
        else:
            n = 0
        taken.append(rng.permutation(members)[:n])
    return np.sort(np.concatenate(taken)) if taken else np.empty(0, dtype=np.int64)


def assign_splits(labels: np.ndarray, is_source_test: np.ndarray, val_fraction: float,
                  test_fraction: float, seed: int) -> np.ndarray:
    """Split code per image (TRAIN/VAL/TEST).

    The source's own test split is kept as test. Without one, a stratified, seeded test split
    is carved out first; validation is then carved, stratified, from what remains.
    """
    rng = np.random.default_rng(seed)
    split = np.full(len(labels), TRAIN, dtype=np.int8)
    split[is_source_test] = TEST
    if not is_source_test.any() and test_fraction > 0:
        split[_stratified_take(np.flatnonzero(split == TRAIN), labels, test_fraction, rng)] = TEST
    if val_fraction > 0:
        # val_fraction is a share of the non-test images, whether or not the source had a test split
        split[_stratified_take(np.flatnonzero(split == TRAIN), labels, val_fraction, rng)] = VAL
    return split


@dataclass(frozen=True)
class AnomalySplit:
    """Which classes are normal. Training uses normal images only; val/test score both."""

    normal_classes: tuple[str, ...]
    anomaly_classes: tuple[str, ...]

    @classmethod
    def choose(cls, classes: list[str] | tuple[str, ...], normal: list[str] | tuple[str, ...],
               anomaly: list[str] | tuple[str, ...] | None = None) -> "AnomalySplit":
        unknown = [c for c in [*normal, *(anomaly or [])] if c not in classes]
        if unknown:
            raise DatasetError(f"unknown class(es): {', '.join(unknown)}; known: {', '.join(classes)}")
        if not normal:
            raise DatasetError("choose at least one normal class")
        anomaly = [c for c in classes if c not in normal] if anomaly is None else list(anomaly)
        overlap = set(normal) & set(anomaly)
        if overlap:
            raise DatasetError(f"class(es) both normal and anomaly: {', '.join(sorted(overlap))}")
        if not anomaly:
            raise DatasetError("every class is normal; leave at least one class as the anomaly")
        return cls(tuple(normal), tuple(anomaly))

    def is_anomaly(self, labels: np.ndarray, classes: list[str] | tuple[str, ...]) -> np.ndarray:
        """Boolean per image; images of classes in neither list are False and should be masked."""
        ids = [i for i, c in enumerate(classes) if c in self.anomaly_classes]
        return np.isin(labels, ids)

    def mask(self, labels: np.ndarray, classes: list[str] | tuple[str, ...]) -> np.ndarray:
        """Images that belong to a normal or an anomaly class."""
        ids = [i for i, c in enumerate(classes) if c in (*self.normal_classes, *self.anomaly_classes)]
        return np.isin(labels, ids)
