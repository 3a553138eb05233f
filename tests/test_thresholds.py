"""The threshold sweep against scikit-learn on random and tied scores, and its bad-input messages."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

from core.errors import UserError
from core.evaluation.sweep import ThresholdSweep


def make_scores(tied: bool, seed: int = 0, n: int = 3000):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.2
    s = rng.normal(size=n) + 1.2 * y
    return (np.round(s, 1) if tied else s), y


@pytest.mark.parametrize("tied", [False, True], ids=["distinct", "tied"])
def test_every_number_matches_sklearn(tied: bool) -> None:
    scores, y = make_scores(tied)
    sweep = ThresholdSweep(scores, y)
    for t in [-5.0, -0.3, 0.0, 0.5, 1.3, float(scores.max()), 99.0]:
        called = scores >= t
        m = sweep.metrics(t)
        tn, fp, fn, tp = confusion_matrix(y, called, labels=[False, True]).ravel()
        assert (m["tp"], m["fp"], m["tn"], m["fn"]) == (tp, fp, tn, fn)
        assert m["tpr"] == pytest.approx(recall_score(y, called, zero_division=0))
        assert m["precision"] == pytest.approx(precision_score(y, called, zero_division=0))
        assert m["f1"] == pytest.approx(f1_score(y, called, zero_division=0))
        assert m["accuracy"] == pytest.approx(accuracy_score(y, called))
        assert m["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, called))
        assert m["tnr"] == pytest.approx(tn / (tn + fp))
    curves = sweep.curves()
    assert curves["roc_auc"] == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert curves["average_precision"] == pytest.approx(average_precision_score(y, scores), abs=1e-12)
    fpr, tpr, thresholds = roc_curve(y, scores, drop_intermediate=False)
    np.testing.assert_allclose(curves["roc_fpr"], fpr)
    np.testing.assert_allclose(curves["roc_tpr"], tpr)
    np.testing.assert_allclose(curves["thresholds"], thresholds[1:])
    best = int(np.argmax(curves["f1"]))
    assert curves["f1"][best] == pytest.approx(f1_score(y, scores >= curves["thresholds"][best]))


def test_percentile_of_normal_scores() -> None:
    sweep = ThresholdSweep(np.arange(100.0), np.arange(100) >= 90)
    assert sweep.percentile_of(50.0) == 50.0
    assert sweep.percentile_of(45.0, among=np.arange(90.0)) == pytest.approx(100 * 45 / 90)


def test_bad_scores_get_messages_not_crashes() -> None:
    with pytest.raises(UserError, match="NaN or infinite"):
        ThresholdSweep([0.1, float("nan"), 0.3], [0, 1, 0])
    with pytest.raises(UserError, match="no scores"):
        ThresholdSweep([], [])
    no_anomalies = ThresholdSweep([0.1, 0.2, 0.3], [0, 0, 0])
    assert "no positive" in no_anomalies.warnings[0]
    assert no_anomalies.metrics(0.2)["fp"] == 2 and np.isnan(no_anomalies.metrics(0.2)["tpr"])
    with pytest.raises(UserError, match="both positive and negative"):
        no_anomalies.curves()
    flat = ThresholdSweep([1.0, 1.0, 1.0], [0, 1, 0])
    assert any("All scores are equal" in w for w in flat.warnings)
    assert flat.curves()["roc_auc"] == pytest.approx(0.5)


@pytest.mark.parametrize("tied", [False, True], ids=["distinct", "tied"])
def test_table_answers_every_threshold_like_counts_and_sklearn(tied: bool) -> None:
    scores, y = make_scores(tied)
    sweep = ThresholdSweep(scores, y)
    table = sweep.table()
    assert table.exact and np.all(np.diff(table.thresholds) > 0)
    assert np.array_equal(table.thresholds, np.unique(scores))
    between = (table.thresholds[1:] + table.thresholds[:-1]) / 2
    for t in np.r_[table.thresholds, between, scores.min() - 1, scores.max() + 1]:
        row = int(np.searchsorted(table.thresholds, t, side="left"))  # what the browser does
        tn, fp, fn, tp = confusion_matrix(y, scores >= t, labels=[False, True]).ravel()
        assert table.counts_at_row(row) == sweep.counts(t)
        assert (table.counts_at_row(row).tp, table.counts_at_row(row).fp,
                table.counts_at_row(row).tn, table.counts_at_row(row).fn) == (tp, fp, tn, fn)


def test_large_table_is_quantile_spaced_and_exact_at_its_rows() -> None:
    rng = np.random.default_rng(1)
    y = rng.random(60_000) < 0.1
    scores = rng.normal(size=60_000) + y
    sweep = ThresholdSweep(scores, y)
    table = sweep.table(max_rows=500)
    assert not table.exact and len(table.thresholds) <= 500
    assert table.thresholds[0] == scores.min() and table.thresholds[-1] == scores.max()
    normal_share_below = (table.below - table.positives_below) / sweep.n_neg_
    assert np.abs(np.diff(normal_share_below)).max() < 0.01  # about evenly spaced in rank
    for k in range(0, len(table.thresholds), 37):
        t = table.thresholds[k]
        tn, fp, fn, tp = confusion_matrix(y, scores >= t, labels=[False, True]).ravel()
        assert table.counts_at_row(k) == sweep.counts(t)
        assert table.counts_at_row(k).tp == tp and table.counts_at_row(k).tn == tn
    assert table.counts_at_row(len(table.thresholds)) == sweep.counts(scores.max() + 1)
    few = ThresholdSweep(np.round(scores), y).table(max_rows=500)  # few distinct values: exact
    assert few.exact and len(few.thresholds) == len(np.unique(np.round(scores)))


def test_histogram_bins_split_where_a_threshold_would() -> None:
    scores, y = make_scores(tied=True)
    sweep = ThresholdSweep(scores, y)
    edges = np.linspace(scores.min(), scores.max(), 13)
    negatives, positives = sweep.histogram(edges)
    for i in range(12):
        inside = (scores >= edges[i]) & ((scores < edges[i + 1]) if i < 11 else
                                         (scores <= edges[i + 1]))
        assert positives[i] == np.sum(inside & y) and negatives[i] == np.sum(inside & ~y)
    assert negatives.sum() == sweep.n_neg_ and positives.sum() == sweep.n_pos_
