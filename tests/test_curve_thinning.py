"""ROC and PR curves of 49 classes and 38,547 test images, thinned for drawing: exact at every
point kept, never further than a grid cell from the full curve, areas from the full curves."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

from core.evaluation.classification import Predictions, class_curves, classification_metrics, roc_pr_curves
from core.evaluation.thinning import MAX_POINTS, RESOLUTION, kept_rows, thin_curve


@pytest.fixture(scope="module")
def k49_sized() -> Predictions:
    """Skewed 49-class predictions of 38,547 images, each class's score a noisy signal."""
    rng = np.random.default_rng(0)
    n, k = 38_547, 49
    weights = np.linspace(1, 20, k)
    y = rng.choice(k, n, p=weights / weights.sum())
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 2.5
    proba = np.exp(logits)
    proba /= proba.sum(1, keepdims=True)
    return Predictions(np.arange(n), y, proba.astype(np.float32), tuple(f"c{i}" for i in range(k)),
                       key="synthetic-k49")


def distance_to_polyline(px, py, x, y) -> np.ndarray:
    """Each point's distance to the polyline through (x, y)."""
    ax, ay, bx, by = x[:-1], y[:-1], x[1:], y[1:]
    dx, dy = bx - ax, by - ay
    length = np.maximum(dx * dx + dy * dy, 1e-30)
    out = np.empty(len(px))
    for i, (qx, qy) in enumerate(zip(px, py)):
        t = np.clip(((qx - ax) * dx + (qy - ay) * dy) / length, 0, 1)
        out[i] = np.sqrt((ax + t * dx - qx) ** 2 + (ay + t * dy - qy) ** 2).min()
    return out


def test_thinned_curve_is_a_subset_close_to_the_full_curve() -> None:
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 2, 20_000)
    score = y_true + rng.normal(0, 1.2, 20_000)
    precision, recall, _ = precision_recall_curve(y_true, score)
    x, y = thin_curve(recall, precision)
    assert len(x) <= MAX_POINTS < len(recall)
    assert (x[0], y[0]) == (recall[0], precision[0]) and (x[-1], y[-1]) == (recall[-1], precision[-1])
    full = set(zip(recall.tolist(), precision.tolist()))
    assert all(point in full for point in zip(x.tolist(), y.tolist()))  # exact at kept points
    # every dropped point lies within one grid cell (diagonal) of the drawn line
    sample = rng.choice(len(recall), 2_000, replace=False)
    resolution = RESOLUTION  # the grid thin_curve ended on
    while len(kept_rows(recall, precision, resolution)) > MAX_POINTS:
        resolution //= 2
    gap = distance_to_polyline(recall[sample], precision[sample], x, y)
    assert gap.max() <= np.sqrt(2) / resolution
    rows = kept_rows(recall, precision)
    assert np.all(np.diff(rows) > 0)


def test_grid_bound_holds_at_full_resolution() -> None:
    rng = np.random.default_rng(2)
    y_true = rng.integers(0, 2, 5_000)
    fpr, tpr, _ = roc_curve(y_true, y_true + rng.normal(0, 1, 5_000), drop_intermediate=False)
    rows = kept_rows(fpr, tpr, RESOLUTION)
    gap = distance_to_polyline(fpr, tpr, fpr[rows], tpr[rows])
    assert gap.max() <= np.sqrt(2) / RESOLUTION
    assert len(rows) < len(fpr) / 2


def test_49_class_curves_are_short_and_their_areas_are_sklearns(k49_sized: Predictions) -> None:
    p = k49_sized
    curves = class_curves(p)
    assert len(curves["roc"]) == len(curves["pr"]) == 49
    onehot = np.eye(49, dtype=bool)[p.y_true]
    for i in (0, 17, 48):
        x, y, area = curves["roc"][i]
        assert area == pytest.approx(roc_auc_score(onehot[:, i], p.proba[:, i]), abs=1e-12)
        fpr, tpr, _ = roc_curve(onehot[:, i], p.proba[:, i])
        assert set(zip(x.tolist(), y.tolist())) <= set(zip(fpr.tolist(), tpr.tolist()))
        precision, recall, _ = precision_recall_curve(onehot[:, i], p.proba[:, i])
        r, pr, pr_area = curves["pr"][i]
        # the legend says "AP": the area is sklearn's average precision of the full curve
        assert pr_area == pytest.approx(average_precision_score(onehot[:, i], p.proba[:, i]), abs=1e-12)
        assert len(r) <= MAX_POINTS < len(recall)
    for x, y, _ in [*curves["roc"].values(), *curves["pr"].values(), curves["micro"], curves["macro"]]:
        assert len(x) == len(y) <= MAX_POINTS
    assert curves["micro"][2] == pytest.approx(roc_auc_score(onehot, p.proba, average="micro"), abs=1e-9)
    assert curves["macro"][2] == pytest.approx(roc_auc_score(onehot, p.proba, average="macro"), abs=2e-3)
    # metrics reuse the same areas, and the page's selection by name picks from them
    metrics = classification_metrics(p)
    assert metrics["per_class"][17]["roc_auc"] == curves["roc"][17][2]
    chosen = roc_pr_curves(p, [3, 5])
    assert list(chosen["roc"]) == ["c3", "c5"] and chosen["pr"]["c5"] is curves["pr"][5]
    assert class_curves(p) is curves  # remembered: a rerun does not recompute them
