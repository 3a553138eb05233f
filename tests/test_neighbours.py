"""Nearest neighbours of a clicked image equal scikit-learn's NearestNeighbors on the same codes."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neighbors import NearestNeighbors

from core.errors import UserError
from core.latent.neighbours import neighbours_of


@pytest.mark.parametrize("row", [0, 17, 1796])
def test_neighbours_equal_sklearn(row) -> None:
    digits = load_digits()
    codes, labels = digits.data[:, ::2] + 0.01 * np.arange(32), digits.target  # 32-d codes
    found = neighbours_of(codes, labels, row, k=8)
    nn = NearestNeighbors(n_neighbors=9).fit(codes)
    dist, idx = nn.kneighbors(codes[row:row + 1])
    keep = idx[0] != row
    assert np.allclose(found.distances, dist[0][keep][:8], rtol=1e-6)
    assert found.rows.tolist() == idx[0][keep][:8].tolist()
    foreign = labels != labels[row]
    other = NearestNeighbors(n_neighbors=1).fit(codes[foreign])
    d_other, i_other = other.kneighbors(codes[row:row + 1])
    assert found.other_row == int(np.flatnonzero(foreign)[i_other[0, 0]])
    assert found.other_distance == pytest.approx(float(d_other[0, 0]), rel=1e-6)
    assert labels[found.other_row] != labels[row]


def test_bounds_and_one_class() -> None:
    codes = np.arange(12, dtype=float).reshape(6, 2)
    found = neighbours_of(codes, np.zeros(6), 2, k=2)
    assert found.other_row is None and set(found.rows.tolist()) == {1, 3}
    with pytest.raises(UserError):
        neighbours_of(codes, np.zeros(6), 6)
    with pytest.raises(UserError):
        neighbours_of(codes, np.zeros(6), 0, k=0)
