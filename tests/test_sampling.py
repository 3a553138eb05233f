"""Seeded picks of images for the Data page: the pool of rows a filter leaves, counted per class."""
from __future__ import annotations

import numpy as np

from core.data import sampling


def test_pool_keeps_the_rows_of_the_chosen_classes_in_order() -> None:
    labels = np.array([0, 1, 2, 1, 0, 2, 2])
    assert sampling.pool(labels, [1, 2]).tolist() == [1, 2, 3, 5, 6]
    assert sampling.pool(labels, [0, 2], rows=np.array([6, 4, 3, 0])).tolist() == [6, 4, 0]
    assert sampling.pool(labels, []).tolist() == []


def test_class_sizes_count_the_pool_per_class() -> None:
    labels = np.array([0, 1, 2, 1, 0, 2, 2])
    pool = sampling.pool(labels, [1, 2])
    assert sampling.class_sizes(labels, pool, 4).tolist() == [0, 2, 3, 0]
    picked = sampling.per_class(labels, pool, 2, seed=0, class_ids=[1, 2])
    assert {c: len(rows) for c, rows in picked.items()} == {1: 2, 2: 2}
