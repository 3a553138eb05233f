"""Anomaly scores and automatic thresholds: constructed data with known answers, real runs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from core.anomaly import decisions as anomaly
from core.anomaly.scores import compute_scores
from core.anomaly.strategies import (MaxF1, MeanValidationError, MixtureSplit, NormalPercentile,
                                  TargetFalseAlarms, YoudenJ, make_strategy)
from core.errors import UserError
from core.runs.store import open_store

REPO = Path(__file__).resolve().parent.parent


def separable(n_normal=900, n_anomaly=100, seed=0):
    """Normals in [0, 1), anomalies in [2, 3): every sensible threshold lies in [1, 2]."""
    rng = np.random.default_rng(seed)
    scores = np.r_[rng.random(n_normal), 2 + rng.random(n_anomaly)]
    return scores, np.r_[np.zeros(n_normal, bool), np.ones(n_anomaly, bool)]


def test_label_using_thresholds_find_the_gap() -> None:
    scores, y = separable()
    for strategy in (MaxF1(), YoudenJ()):
        t = strategy.fit(scores, y).threshold_
        assert scores[~y].max() < t <= scores[y].min()
        assert f1_score(y, scores >= t) == 1.0


def test_label_free_thresholds_have_known_answers() -> None:
    scores, y = separable()
    assert MeanValidationError().fit(scores, y).threshold_ == pytest.approx(scores[~y].mean())
    assert NormalPercentile(90).fit(scores, y).threshold_ == pytest.approx(np.percentile(scores[~y], 90))
    tnr = TargetFalseAlarms(0.95).fit(scores, y).threshold_
    assert np.mean(scores[~y] >= tnr) <= 0.05 and np.mean(scores[~y] >= np.nextafter(
        np.sort(scores[~y])[-46], -np.inf)) > 0.05  # the lowest threshold that keeps 95%
    split = MixtureSplit().fit(scores, y).threshold_
    assert scores[~y].max() < split < scores[y].min()


def test_thresholds_warn_when_validation_cannot_support_them() -> None:
    scores = np.random.default_rng(1).random(200)
    none = np.zeros(200, bool)
    for strategy in (MaxF1(), YoudenJ()):
        fitted = strategy.fit(scores, none)
        assert fitted.threshold_ is None and "needs anomalies" in fitted.warnings_[0]
    assert NormalPercentile(99).fit(scores, none).threshold_ is not None  # needs no labels
    flat = MixtureSplit().fit(np.ones(50), np.zeros(50, bool))
    assert "All validation scores are equal" in flat.warnings_[0]


def test_strategy_parsing() -> None:
    assert isinstance(make_strategy("tnr=0.9"), TargetFalseAlarms) and make_strategy("tnr=0.9").tnr == 0.9
    assert make_strategy("fpr=0.05").tnr == pytest.approx(0.95)
    assert make_strategy("percentile=97.5").percentile == 97.5
    for bad, message in (("median", "unknown strategy"), ("tnr=abc", "not a number"),
                         ("tnr=1.5", "between 0 and 1")):
        with pytest.raises(UserError, match=message):
            make_strategy(bad)


def test_balanced_and_imbalanced_views() -> None:
    y = np.r_[np.zeros(500, bool), np.ones(80, bool)]
    balanced = anomaly.view_rows(y, "balanced")
    assert y[balanced].sum() == (~y[balanced]).sum() == 80
    imbalanced = anomaly.view_rows(y, "imbalanced")
    assert (~y[imbalanced]).sum() == 500 and y[imbalanced].sum() == round(0.03 / 0.97 * 500)
    assert np.array_equal(anomaly.view_rows(y, "balanced"), balanced)  # seeded, repeatable


def test_scores_of_the_shipped_anomaly_ae(settings) -> None:
    run = open_store(settings).get("digits-anomaly-ae")
    scores = compute_scores(run, settings)
    assert scores.trained_on_normal_only and scores.view.anomaly_classes == ("9",)
    assert set(scores.scores) == {"mse", "l1", "mse_l1", "gmm_nll", "knn", "mahalanobis"}
    test = scores.part("test")
    assert scores.is_anomaly[test].sum() == 36  # the 9s of the test split
    for name, values in scores.scores.items():
        assert np.isfinite(values).all()
        assert roc_auc_score(scores.is_anomaly[test], values[test]) > 0.7, name
    again = compute_scores(run, settings)
    assert again.from_cache and np.array_equal(again.scores["knn"], scores.scores["knn"])


def test_scores_need_normal_classes_and_an_autoencoder(settings) -> None:
    store = open_store(settings)
    with pytest.raises(UserError, match="trained on every class; choose which classes are normal"):
        compute_scores(store.get("digits-vae"), settings)
    vae = compute_scores(store.get("digits-vae"), settings, normal=("0",))
    assert not vae.trained_on_normal_only and "neg_elbo" in vae.scores
    with pytest.raises(UserError, match="classifier"):
        compute_scores(store.get("digits-classifier"), settings, normal=("0",))


def test_cli_threshold_tunes_on_val_and_reports_test(settings) -> None:
    out = subprocess.run([sys.executable, "-m", "core", "threshold", "digits-anomaly-ae",
                          "--strategy", "percentile=95", "--score", "knn", "--json"],
                         cwd=REPO, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    scores = compute_scores(open_store(settings).get("digits-anomaly-ae"), settings)
    val = scores.part("val")
    normal_val = scores.scores["knn"][val][~scores.is_anomaly[val]]
    assert result["threshold"] == pytest.approx(np.percentile(normal_val, 95))
    assert set(result["test"]) >= {"tp", "fp", "tn", "fn", "tpr", "tnr"}
    bad = subprocess.run([sys.executable, "-m", "core", "threshold", "digits-anomaly-ae",
                          "--score", "nope"], cwd=REPO, capture_output=True, text=True, timeout=180)
    assert bad.returncode == 2 and "unknown score 'nope'" in bad.stderr
