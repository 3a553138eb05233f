"""Splits are stratified, seeded and keep the source's own test split; anomaly views validate."""
from __future__ import annotations

import numpy as np
import pytest

from core.data.dataset import load_dataset
from core.data.splits import TEST, TRAIN, VAL, AnomalySplit, assign_splits
from core.errors import DatasetError


def test_stratified_and_repeatable() -> None:
    labels = np.repeat(np.arange(4), [100, 50, 20, 10])
    no_test = np.zeros(len(labels), bool)
    a = assign_splits(labels, no_test, 0.1, 0.2, seed=3)
    assert np.array_equal(a, assign_splits(labels, no_test, 0.1, 0.2, seed=3))
    assert not np.array_equal(a, assign_splits(labels, no_test, 0.1, 0.2, seed=4))
    for cls, n in enumerate([100, 50, 20, 10]):
        members = a[labels == cls]
        assert (members == TEST).sum() == round(0.2 * n)
        assert (members == VAL).sum() == max(1, round(0.1 * (n - round(0.2 * n))))


def test_source_test_split_is_kept() -> None:
    labels = np.tile(np.arange(2), 50)
    is_test = np.arange(100) >= 80
    split = assign_splits(labels, is_test, 0.25, 0.2, seed=0)
    assert np.array_equal(split == TEST, is_test)
    assert (split == VAL).sum() == 20 and (split == TRAIN).sum() == 60


def test_tiny_classes_are_never_emptied_from_train() -> None:
    labels = np.array([0] * 20 + [1, 1] + [2])
    split = assign_splits(labels, np.zeros(len(labels), bool), 0.3, 0.3, seed=0)
    for cls in (0, 1, 2):
        assert (split[labels == cls] == TRAIN).any()


def test_anomaly_split(settings) -> None:
    ds = load_dataset("digits", settings)
    view = AnomalySplit.choose(ds.classes, normal=["0", "1", "2", "3", "4", "5", "6", "7", "8"])
    assert view.anomaly_classes == ("9",)
    is_anomaly = view.is_anomaly(ds.labels, ds.classes)
    assert is_anomaly.sum() == (ds.labels == 9).sum()
    partial = AnomalySplit.choose(ds.classes, normal=["1"], anomaly=["7"])
    assert partial.mask(ds.labels, ds.classes).sum() == ((ds.labels == 1) | (ds.labels == 7)).sum()
    with pytest.raises(DatasetError, match="leave at least one class"):
        AnomalySplit.choose(ds.classes, normal=list(ds.classes))
    with pytest.raises(DatasetError, match="both normal and anomaly"):
        AnomalySplit.choose(ds.classes, normal=["1"], anomaly=["1"])
    with pytest.raises(DatasetError, match="unknown class"):
        AnomalySplit.choose(ds.classes, normal=["eleven"])
