"""The threshold panel's arithmetic (threshold_panel_assets/sweep.js) run in Chromium on the very
payload Python sends, against core's ThresholdSweep and scikit-learn, on random and tied scores:
counts and rates at every position, key steps, PageUp/PageDown and the large-table snap."""
from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score, precision_score

from core.evaluation.sweep import ThresholdSweep
from dashboard.widgets.threshold_panel import sweep_payload

pytestmark = pytest.mark.browser

ANSWER_JS = """([raw, thresholds]) => {
    const table = decodeTable(raw);
    return thresholds.map((position) => {  // what the panel shows for a pointer position
        const t = snap(table, position), c = countsAt(table, t), m = metricsOf(c);
        return [c.tp, c.fp, c.tn, c.fn, m.tpr, m.tnr, m.precision, m.f1, m.accuracy,
                m.balancedAccuracy, percentileOf(table, c), t];
    });
}"""

MOVES_JS = """([raw, thresholds, lo, hi]) => {
    const table = decodeTable(raw);
    return thresholds.map((t) => [stepThreshold(table, t, 1, lo, hi),
                                  stepThreshold(table, t, -1, lo, hi),
                                  pageThreshold(table, t, 1, 0.05, lo, hi),
                                  pageThreshold(table, t, -1, 0.05, lo, hi)]);
}"""


@pytest.fixture(scope="module")
def js(sweep_js):
    return sweep_js


def _scores(kind: str, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.25
    s = rng.normal(size=n) + 1.3 * y
    return (np.round(s, 1) if kind == "tied" else s), y


def _nan_eq(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-12)


@pytest.mark.parametrize("kind", ["random", "tied"])
def test_every_position_matches_core_and_sklearn(js, kind) -> None:
    scores, y = _scores(kind, 2_000)
    sweep = ThresholdSweep(scores, y)
    bounds = (float(scores.min()), float(scores.max()))
    raw = sweep_payload(sweep, bounds)["table"]
    distinct = np.unique(scores)
    rng = np.random.default_rng(1)
    thresholds = np.r_[distinct, (distinct[1:] + distinct[:-1]) / 2, distinct[0] - 1,
                       distinct[-1] + 1, rng.uniform(distinct[0], distinct[-1], 200)]
    answers = js.evaluate(ANSWER_JS, [raw, thresholds.tolist()])
    normal = scores[~y]
    for i, (t, got) in enumerate(zip(thresholds, answers)):
        m = sweep.metrics(float(t))
        assert got[:4] == [m["tp"], m["fp"], m["tn"], m["fn"]], t
        for value, name in zip(got[4:10], ["tpr", "tnr", "precision", "f1", "accuracy",
                                           "balanced_accuracy"]):
            assert _nan_eq(value, m[name]), (t, name)
        assert got[10] == pytest.approx(sweep.percentile_of(float(t), among=normal))
        assert got[11] == t  # an exact table: every position is its own threshold
        if i % max(1, len(thresholds) // 150) == 0:  # and scikit-learn agrees (150 positions)
            called = scores >= t
            tn, fp, fn, tp = confusion_matrix(y, called, labels=[False, True]).ravel()
            assert got[:4] == [tp, fp, tn, fn]
            assert got[6] == pytest.approx(precision_score(y, called, zero_division=0))
            assert got[7] == pytest.approx(f1_score(y, called, zero_division=0))
            assert got[9] == pytest.approx(balanced_accuracy_score(y, called))


@pytest.mark.parametrize("kind", ["random", "tied"])
def test_keys_step_to_the_next_count_change_and_page_by_five_percent(js, kind) -> None:
    scores, y = _scores(kind, 1_000, seed=2)
    sweep = ThresholdSweep(scores, y)
    lo, hi = float(scores.min()), float(scores.max()) + 0.5
    raw = sweep_payload(sweep, (lo, hi))["table"]
    distinct = np.unique(scores)
    starts = np.r_[distinct[::3], (distinct[1:] + distinct[:-1])[::5] / 2]
    moves = js.evaluate(MOVES_JS, [raw, starts.tolist(), lo, hi])
    step = math.ceil(0.05 * sweep.n_neg_)
    stops = np.r_[distinct, hi]  # where a page can land, and the normals below each
    normals_below = np.array([sweep.counts(d).tn for d in stops])
    for t, (up, down, page_up, page_down) in zip(starts, moves):
        k = int(np.searchsorted(distinct, t))  # counts at t are those at distinct[k]
        assert up == (distinct[k + 1] if k + 1 < len(distinct) else hi)
        assert down == (distinct[k - 1] if k > 0 else t)
        assert sweep.counts(up) != sweep.counts(t) or k + 1 > len(distinct)
        tn = sweep.counts(t).tn
        first = int(np.searchsorted(normals_below, tn + step, side="left"))  # lowest with 5% more
        assert page_up == (stops[first] if first < len(stops) else hi)
        last = int(np.searchsorted(normals_below[:k], tn - step, side="right")) - 1
        assert page_down == (distinct[max(last, 0)] if k else t)  # highest with 5% fewer


def test_large_sweep_snaps_to_its_table_and_stays_exact(js) -> None:
    scores, y = _scores("random", 60_000, seed=3)
    sweep = ThresholdSweep(scores, y)
    raw = sweep_payload(sweep, (float(scores.min()), float(scores.max())))["table"]
    assert not raw["exact"]
    rows = sweep.table().thresholds
    positions = np.random.default_rng(4).uniform(scores.min(), scores.max(), 300)
    answers = js.evaluate(ANSWER_JS, [raw, positions.tolist()])
    for t, got in zip(positions, answers):
        snapped = got[11]
        assert snapped in rows
        nearest = rows[np.argmin(np.abs(rows - t))]
        assert abs(snapped - t) == pytest.approx(abs(nearest - t))
        counts = sweep.counts(snapped)
        assert got[:4] == [counts.tp, counts.fp, counts.tn, counts.fn]
