"""Curves thinned to what a screen can show, exact at every point kept.

A PR curve of 38,547 test images has 38,547 points; a chart a few hundred pixels wide shows at
most a few per pixel column. `thin_curve` keeps real points only (never interpolates): the first
and the last, and wherever the curve enters and leaves each cell of a resolution x resolution
grid over the plot, so the drawn line never strays from the full curve by more than a cell.
"""
from __future__ import annotations

import numpy as np

RESOLUTION = 400  # grid cells per axis; a chart is 400-700 px wide here
MAX_POINTS = 2_000  # the grid is coarsened until a curve has at most this many points


def kept_rows(x: np.ndarray, y: np.ndarray, resolution: int = RESOLUTION) -> np.ndarray:
    """Indices kept: first, last, and the first and last point of each run of consecutive
    points in the same grid cell (x and y scaled to their own range)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    if n <= 2:
        return np.arange(n)

    def cells(v: np.ndarray) -> np.ndarray:
        lo, hi = np.nanmin(v), np.nanmax(v)
        span = hi - lo if hi > lo else 1.0
        return np.minimum(((v - lo) / span * resolution).astype(np.int64), resolution - 1)

    cell = cells(x) * (resolution + 1) + cells(y)
    change = np.flatnonzero(cell[1:] != cell[:-1])  # last point of a run; change + 1 starts the next
    keep = np.zeros(n, dtype=bool)
    keep[[0, n - 1]] = True
    keep[change] = True
    keep[change + 1] = True
    return np.flatnonzero(keep)


def thin_curve(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS,
               resolution: int = RESOLUTION) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) at the kept points; the grid halves until at most max_points remain."""
    x, y = np.asarray(x), np.asarray(y)
    rows = kept_rows(x, y, resolution)
    while len(rows) > max_points and resolution > 8:
        resolution //= 2
        rows = kept_rows(x, y, resolution)
    return x[rows], y[rows]
