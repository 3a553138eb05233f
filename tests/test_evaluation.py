"""Classifier evaluation: metrics equal scikit-learn's, predictions are cached, the CLI works."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    auc,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

from core.errors import UserError
from core.evaluation.classification import (
    Predictions,
    cell_members,
    classification_metrics,
    comparison_row,
    confident_mistakes,
    confusion,
    largest_confusion,
    metrics_csv,
    per_class_frame,
    predict,
    predictions_frame,
    roc_pr_curves,
)
from core.runs.store import open_store

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def fixed() -> Predictions:
    """A fixed, imbalanced prediction set with mistakes of varying confidence."""
    rng = np.random.default_rng(3)
    y = rng.choice(4, size=400, p=[0.6, 0.2, 0.15, 0.05])
    logits = rng.normal(size=(400, 4)) + 2.5 * np.eye(4)[y]
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return Predictions(np.arange(400) * 2, y, proba, ("a", "b", "c", "d"))


def test_metrics_equal_sklearn(fixed: Predictions) -> None:
    p, y, yhat = fixed, fixed.y_true, fixed.y_pred
    m = classification_metrics(p)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, yhat))
    assert m["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, yhat))
    for avg in ("macro", "weighted"):
        assert m[f"{avg}_f1"] == pytest.approx(f1_score(y, yhat, average=avg))
        assert m[f"{avg}_precision"] == pytest.approx(precision_score(y, yhat, average=avg))
        assert m[f"{avg}_recall"] == pytest.approx(recall_score(y, yhat, average=avg))
    for i, row in enumerate(m["per_class"]):
        assert row["f1"] == pytest.approx(f1_score(y == i, yhat == i))
        assert row["support"] == int((y == i).sum())
        assert row["roc_auc"] == pytest.approx(roc_auc_score(y == i, p.proba[:, i]))
    assert m["majority_baseline"] == pytest.approx(np.mean(y == 0))
    np.testing.assert_array_equal(confusion(p), confusion_matrix(y, yhat))
    np.testing.assert_allclose(confusion(p, normalize=True), confusion_matrix(y, yhat, normalize="true"))


def test_curves_cells_and_mistakes(fixed: Predictions) -> None:
    p = fixed
    curves = roc_pr_curves(p, [0, 3])
    assert set(curves["roc"]) == {"a", "d"}
    fpr, tpr, _ = roc_curve(p.y_true == 3, p.proba[:, 3])
    assert curves["roc"]["d"][2] == pytest.approx(auc(fpr, tpr))
    onehot = np.eye(4)[p.y_true]
    assert curves["micro"][2] == pytest.approx(roc_auc_score(onehot, p.proba, average="micro"))
    assert curves["macro"][2] == pytest.approx(roc_auc_score(onehot, p.proba, average="macro"), abs=2e-3)
    rows = cell_members(p, 0, 1)
    assert all(p.y_true[r] == 0 and p.y_pred[r] == 1 for r in rows)
    assert len(rows) == confusion(p)[0, 1]
    assert list(p.confidence[rows]) == sorted(p.confidence[rows], reverse=True)
    mistakes = confident_mistakes(p)
    assert len(mistakes) == int((p.y_true != p.y_pred).sum())
    assert p.confidence[mistakes[0]] == p.confidence[p.y_true != p.y_pred].max()
    frame = predictions_frame(p)
    assert list(frame.columns[:4]) == ["index", "true", "predicted", "confidence"]
    assert frame["index"].tolist() == p.index.tolist() and len(frame.columns) == 8


def test_largest_confusion_is_the_biggest_off_diagonal_cell(fixed: Predictions) -> None:
    matrix = confusion(fixed)
    t, q = largest_confusion(matrix)
    off = [(matrix[i, j], i, j) for i in range(4) for j in range(4) if i != j]
    assert t != q and matrix[t, q] == max(v for v, _, _ in off)
    assert largest_confusion(np.array([[3, 1, 0], [0, 2, 4], [5, 0, 1]])) == (2, 0)
    assert largest_confusion(np.diag([4, 5])) == (0, 0)  # nothing confused


def test_metrics_csv_has_the_headline_then_one_row_per_class(fixed: Predictions) -> None:
    import io

    import pandas as pd

    metrics = classification_metrics(fixed)
    head, per_class = metrics_csv(metrics).decode().split("\n\n")
    row = pd.read_csv(io.StringIO(head))
    assert len(row) == 1 and "per_class" not in row.columns
    assert row.loc[0, "accuracy"] == pytest.approx(metrics["accuracy"])
    assert row.loc[0, "macro_f1"] == pytest.approx(metrics["macro_f1"])
    table = pd.read_csv(io.StringIO(per_class), index_col="class")
    assert table.index.astype(str).tolist() == list(fixed.classes)
    np.testing.assert_allclose(table["f1"], per_class_frame(metrics)["f1"])


def test_predictions_are_computed_once_and_reused(settings) -> None:
    run = open_store(settings).get("digits-classifier")
    first = predict(run, "test", settings)
    again = predict(run, "test", settings)
    assert not first.from_cache and again.from_cache
    np.testing.assert_array_equal(first.proba, again.proba)
    assert len(first.index) == 359 and np.allclose(first.proba.sum(1), 1, atol=1e-5)
    # shipped runs are read-only: their cache lives in the workspace
    assert list((settings.cache_dir / "shipped" / run.id).glob("predictions-test-*.npz"))
    row = comparison_row(run, "test", settings)
    assert row["parameters"] > 1000 and row["accuracy"] == classification_metrics(first)["accuracy"]


def test_autoencoder_runs_are_refused(settings) -> None:
    with pytest.raises(UserError, match="Anomaly page"):
        predict(open_store(settings).get("digits-vae"), "test", settings)


def test_cli_evaluate(settings) -> None:
    out = subprocess.run([sys.executable, "-m", "core", "evaluate", "digits-classifier", "--json"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["n"] == 359 and len(data["confusion"]) == 10 and data["balanced_accuracy"] > 0.95
    bad = subprocess.run([sys.executable, "-m", "core", "evaluate", "nope"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no run 'nope'" in bad.stderr
