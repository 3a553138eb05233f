"""Curve helpers for drawing: smoothing, downsampling, and which metrics runs logged. Stored metrics
are never touched."""
from __future__ import annotations

import numpy as np


def smooth_ema(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard-style exponential moving average, debiased so the start is not pulled to 0."""
    values = np.asarray(values, dtype=float)
    if weight <= 0 or len(values) == 0:
        return values
    out = np.empty_like(values)
    acc, norm = 0.0, 0.0
    for i, v in enumerate(values):
        acc = weight * acc + (1 - weight) * v
        norm = weight * norm + (1 - weight)
        out[i] = acc / norm
    return out


def downsample(x: np.ndarray, y: np.ndarray, max_points: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """At most about max_points, keeping each bucket's min and max so spikes stay visible."""
    x, y = np.asarray(x), np.asarray(y, dtype=float)
    if len(x) <= max_points:
        return x, y
    buckets = np.array_split(np.arange(len(x)), max_points // 2)
    keep = []
    for b in buckets:
        lo, hi = b[np.argmin(y[b])], b[np.argmax(y[b])]
        keep.extend(sorted({int(lo), int(hi)}))
    keep = np.asarray(keep)
    return x[keep], y[keep]


def series(records: list[dict], key: str, kind: str, x_key: str = "step") -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of one metric from metrics.jsonl records of a type ("step" or "epoch")."""
    rows = [(r[x_key], r[key]) for r in records if r.get("type") == kind and key in r and x_key in r]
    if not rows:
        return np.empty(0), np.empty(0)
    xs, ys = zip(*rows)
    return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)


def epoch_metric_names(records_by_run) -> list[str]:
    """Sorted names of the train_/val_ metrics logged per epoch by any of the runs' records."""
    return sorted({k for records in records_by_run for m in records if m.get("type") == "epoch"
                   for k in m if k.startswith(("val_", "train_"))})
