"""threshold_sweep: one slider move on 1,000,000 scores, against scikit-learn recomputing the
confusion matrix for that threshold (the baseline), and every curve in one pass."""
from __future__ import annotations

import numpy as np

from tests.bench.common import Figure, timed


def threshold_sweep(repeats: int) -> list[Figure]:
    from sklearn.metrics import confusion_matrix

    from core.evaluation.sweep import ThresholdSweep

    rng = np.random.default_rng(0)
    n = 1_000_000
    is_anomaly = rng.random(n) < 0.05
    scores = rng.normal(size=n) + 2.0 * is_anomaly
    build = Figure("threshold_sweep", "sort 1M scores once", unit="s")
    move = Figure("threshold_sweep", "one slider move (core)", unit="s", goal=0.001,
                  baseline="sklearn confusion_matrix")
    sk = Figure("threshold_sweep", "sklearn confusion_matrix", unit="s")
    curves = Figure("threshold_sweep", "ROC + PR + F1 curves", unit="s", goal=0.3)
    for _ in range(repeats):
        seconds, sweep = timed(ThresholdSweep, scores, is_anomaly)
        build.values.append(seconds)
        thresholds = rng.uniform(-1, 3, 200)
        seconds, _ = timed(lambda sweep=sweep, thresholds=thresholds: [sweep.metrics(t) for t in thresholds])
        move.values.append(seconds / len(thresholds))
        t = float(thresholds[0])
        seconds, matrix = timed(confusion_matrix, is_anomaly, scores >= t)
        sk.values.append(seconds)
        assert matrix[1, 1] == sweep.counts(t).tp and matrix[0, 1] == sweep.counts(t).fp
        curves.values.append(timed(sweep.curves)[0])
    return [build, move, sk, curves]
