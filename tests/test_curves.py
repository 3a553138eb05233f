"""Curve drawing helpers: smoothing and downsampling change the drawing, never the data."""
from __future__ import annotations

import numpy as np

from core.runs.curves import downsample, epoch_metric_names, series, smooth_ema
from dashboard.figures import training_curves_figure


def test_ema_is_debiased_and_zero_weight_is_identity() -> None:
    values = np.array([10.0, 10.0, 10.0, 0.0])
    smoothed = smooth_ema(values, 0.5)
    assert smoothed[0] == 10.0 and smoothed[1] == 10.0  # no pull towards 0 at the start
    assert 0 < smoothed[-1] < 10
    np.testing.assert_array_equal(smooth_ema(values, 0.0), values)


def test_downsample_keeps_spikes_and_leaves_short_curves_alone() -> None:
    x = np.arange(10_000)
    y = np.zeros(10_000)
    y[7_777] = 100.0
    xs, ys = downsample(x, y, max_points=500)
    assert len(xs) <= 500 and 100.0 in ys and 7_777 in xs
    assert np.all(np.diff(xs) > 0)
    short_x, short_y = downsample(x[:100], y[:100], max_points=500)
    assert len(short_x) == 100


def test_series_and_the_figure_draw_a_sample_of_long_runs() -> None:
    records = [{"type": "step", "step": s, "train_loss": 1.0 / (s + 1)} for s in range(1, 20_001)]
    records += [{"type": "epoch", "step": 20_000, "epoch": 1, "train_loss": 0.1, "val_loss": 0.2,
                 "train_acc": 0.9, "val_acc": 0.8}]
    x, y = series(records, "train_loss", "step")
    assert len(x) == 20_000  # the stored metrics are all there
    fig = training_curves_figure(records, smoothing=0.6, max_points=1_000)
    drawn = {t.name: len(t.x) for t in fig.data}
    assert drawn["train (each log)"] <= 1_000 and drawn["train (smoothed)"] <= 1_000
    assert drawn["val per epoch"] == 1


def test_epoch_metric_names_across_runs() -> None:
    classifier = [{"type": "step", "train_loss": 1.0, "step": 1},
                  {"type": "epoch", "epoch": 1, "train_loss": 0.9, "val_loss": 1.0, "val_acc": 0.5,
                   "lr": 0.01}]
    autoencoder = [{"type": "epoch", "epoch": 1, "train_loss": 0.2, "val_mse": 0.1}]
    assert epoch_metric_names([classifier, autoencoder]) == ["train_loss", "val_acc", "val_loss",
                                                             "val_mse"]
    assert epoch_metric_names([classifier[:1], []]) == []  # step records only
