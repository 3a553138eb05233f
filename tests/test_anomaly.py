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
from core.anomaly.decisions import (
    SavedThreshold,
    decisions_frame,
    default_threshold,
    gallery_rows,
    outcome,
    saved_threshold_for,
    saved_threshold_path,
    threshold_bounds,
)
from core.anomaly.scores import AnomalyScores, compute_scores, score_names
from core.anomaly.strategies import (
    STRATEGIES,
    FittedThreshold,
    MaxF1,
    MeanValidationError,
    MixtureSplit,
    NormalPercentile,
    TargetFalseAlarms,
    YoudenJ,
    compare_strategies,
    fit_all,
    make_strategy,
)
from core.data.splits import AnomalySplit
from core.errors import UserError
from core.evaluation.sweep import ThresholdSweep
from core.models import Kind
from core.runs.results import cache_dir
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
    # every score registered for autoencoders (a new score file adds itself), the built-ins among them
    assert set(scores.scores) == set(score_names(Kind.AUTOENCODER))
    assert {"mse", "l1", "mse_l1", "gmm_nll", "knn", "mahalanobis"} <= set(scores.scores) - {"neg_elbo"}
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


# -- every strategy at once, and how each does on val and test ---------------------------------
def test_fit_all_fits_every_strategy_as_each_would_alone() -> None:
    scores, y = separable()
    fitted = fit_all(scores, y)
    assert list(fitted) == list(STRATEGIES)
    for name, f in fitted.items():
        alone = make_strategy(name).fit(scores, y)
        assert f.name == name and f.threshold == alone.threshold_
        assert f.warnings == tuple(alone.warnings_) and f.explanation == alone.explanation
    assert scores[~y].max() < fitted["f1"].threshold <= scores[y].min()


def test_fit_all_says_why_a_strategy_cannot_fit() -> None:
    scores, y = separable()
    nan = scores.copy()
    nan[:2] = np.nan
    for f in fit_all(nan, y).values():
        assert f.threshold is None and f.warnings == (
            "2 validation score(s) are NaN or infinite; nothing can be tuned on them.",)
    no_anomalies = fit_all(scores[~y], np.zeros((~y).sum(), bool))
    assert no_anomalies["f1"].threshold is None and "needs anomalies" in no_anomalies["f1"].warnings[0]
    assert no_anomalies["youden"].threshold is None
    assert no_anomalies["percentile=99"].threshold == pytest.approx(np.percentile(scores[~y], 99))
    only_anomalies = fit_all(scores[y], np.ones(y.sum(), bool))
    assert all(f.threshold is None and "no normal images" in f.warnings[0]
               for f in only_anomalies.values())


def test_compare_strategies_reports_val_and_test_rates_from_the_sweeps() -> None:
    val, val_y = separable(seed=0)
    test, test_y = separable(n_normal=300, n_anomaly=60, seed=1)
    fitted = fit_all(val, val_y)
    fitted["broken"] = FittedThreshold("broken", None, ("could not fit", "really"), "none")
    table = compare_strategies(fitted, val, val_y, ThresholdSweep(test, test_y))
    assert list(table.columns) == ["strategy", "threshold", "val F1", "val TPR", "val TNR",
                                   "test F1", "test TPR", "test TNR", "note"]
    assert table["strategy"].tolist() == [*STRATEGIES, "broken"]
    row = table.set_index("strategy").loc["mean"]
    t = fitted["mean"].threshold
    v, te = ThresholdSweep(val, val_y).metrics(t), ThresholdSweep(test, test_y).metrics(t)
    assert row["threshold"] == t
    assert (row["val F1"], row["val TPR"], row["val TNR"]) == (v["f1"], v["tpr"], v["tnr"])
    assert (row["test F1"], row["test TPR"], row["test TNR"]) == (te["f1"], te["tpr"], te["tnr"])
    assert row["val TNR"] < 1 and row["test TPR"] == 1.0  # the mean sits inside the normals
    broken = table.set_index("strategy").loc["broken"]
    assert broken[["threshold", "val F1", "test TNR"]].isna().all()
    assert broken["note"] == "could not fit really"
    # undefined rates (no anomalies in the test sweep) are None, not NaN
    no_pos = compare_strategies(fitted, val, val_y, ThresholdSweep(test[~test_y], test_y[~test_y]))
    assert no_pos["test TPR"].isna().all() and no_pos["test TNR"][:-1].notna().all()
    # validation scores no sweep can take (NaN): no val rates, the test rates still shown
    no_val = compare_strategies(fitted, np.array([np.nan, 1.0]), np.array([False, True]),
                                ThresholdSweep(test, test_y))
    assert no_val[["val F1", "val TPR", "val TNR"]].isna().all().all()
    assert no_val["test F1"][:-1].notna().all()


# -- the slider's range and default, decisions, galleries ------------------------------------
def fitted_at(**thresholds) -> dict[str, FittedThreshold]:
    return {name.replace("_", "="): FittedThreshold(name, t, (), "") for name, t in thresholds.items()}


def test_threshold_bounds_cover_the_scores_and_every_fitted_threshold() -> None:
    scores = np.array([0.5, np.nan, 2.0, 1.0, np.inf])
    assert threshold_bounds(scores, fitted_at(f1=1.5, gmm=None)) == (0.5, 2.0)
    assert threshold_bounds(scores, fitted_at(f1=1.5, mean=3.25)) == (0.5, 3.25)
    with pytest.raises(UserError, match="no finite scores"):
        threshold_bounds(np.array([np.nan]), {})


def test_default_threshold_is_saved_then_max_f1_then_percentile_then_median() -> None:
    test = np.array([1.0, 2.0, 3.0, 10.0])
    saved = SavedThreshold(0.7, "mse", "youden", "val", ("0",), "r", "2024-01-01T00:00:00+00:00")
    assert default_threshold(fitted_at(f1=2.5), saved, test) == (0.7, "youden")
    assert default_threshold(fitted_at(f1=2.5, percentile_99=4.0), None, test) == (2.5, "f1")
    assert default_threshold(fitted_at(f1=None, percentile_99=4.0), None, test) == (4.0, "percentile=99")
    assert default_threshold(fitted_at(f1=None, percentile_99=None), None, test) == (2.5, "manual")


def test_outcome_calls_at_or_above_the_threshold_an_anomaly() -> None:
    assert [outcome(s, a, 1.0) for s, a in [(1.0, True), (0.9, True), (1.0, False), (0.9, False)]] \
        == ["TP", "FN", "FP", "TN"]


def test_gallery_rows_on_a_hand_computed_case() -> None:
    rows = np.array([10, 11, 12, 13, 14, 15, 16, 17])
    scores = np.array([0.1, 0.9, 0.45, 0.6, 0.2, 0.8, 0.55, 0.3])
    truth = np.array([0, 1, 1, 0, 0, 0, 1, 1], dtype=bool)
    g = gallery_rows(rows, scores, truth, threshold=0.5, size=3)
    assert g.most_anomalous.tolist() == [11, 15, 13]  # 0.9, 0.8, 0.6
    assert g.closest.tolist() == [12, 16, 13]  # |d| 0.05, 0.05 (tie: row order), 0.1
    # false positives 13 (0.6) and 15 (0.8); false negatives 12 (0.45) and 17 (0.3);
    # farthest from the threshold first, at least size // 2 = 1 false positive
    assert (g.n_false_positives, g.n_false_negatives) == (2, 2)
    assert g.wrong.tolist() == [15, 17, 12]
    assert g.all().tolist() == [11, 12, 13, 15, 16, 17]
    # fewer false negatives than room: the false positives fill it
    only_fp = gallery_rows(rows, scores, np.zeros(8, bool), threshold=0.5, size=3)
    assert only_fp.wrong.tolist() == [11, 15, 13] and only_fp.n_false_negatives == 0
    nothing_wrong = gallery_rows(rows, scores, scores >= 0.5, threshold=0.5, size=3)
    assert nothing_wrong.wrong.tolist() == [] and nothing_wrong.wrong.dtype.kind == "i"


def test_decisions_frame_matches_the_sweep() -> None:
    rng = np.random.default_rng(4)
    n = 200
    split = np.where(np.arange(n) % 4 == 0, "val", "test")
    labels = rng.integers(0, 3, n)
    flags = labels == 2
    mse = rng.random(n) + flags
    a = AnomalyScores(np.arange(n) * 3, split, labels, flags, {"mse": mse},
                      AnomalySplit(("a", "b"), ("c",)), True)
    frame = decisions_frame(a, "mse", 0.8, ("a", "b", "c"))
    assert list(frame.columns) == ["index", "split", "class", "is_anomaly", "mse", "decision"]
    order = np.r_[a.part("val"), a.part("test")]
    assert frame["index"].tolist() == (order * 3).tolist()
    assert frame["split"].tolist() == ["val"] * 50 + ["test"] * 150
    assert frame["class"].tolist() == [("a", "b", "c")[c] for c in labels[order]]
    for part in ("val", "test"):
        rows = frame[frame["split"] == part]
        m = ThresholdSweep(rows["mse"], rows["is_anomaly"]).metrics(0.8)
        called = rows["decision"] == "anomaly"
        assert int((called & rows["is_anomaly"]).sum()) == m["tp"]
        assert int((called & ~rows["is_anomaly"]).sum()) == m["fp"]
        assert int((~called & rows["is_anomaly"]).sum()) == m["fn"]
    assert set(frame["decision"]) == {"anomaly", "normal"}


# -- the saved threshold -------------------------------------------------------------------------
def test_saved_threshold_round_trips_and_records_where_it_was_tuned(tmp_path) -> None:
    path = tmp_path / "threshold-mse.json"
    by_hand = SavedThreshold.now("run-1", "mse", 0.25, ["0", "1"], "f1", strategy_value=0.3)
    assert by_hand.strategy == "manual" and by_hand.split == "test"
    tuned = SavedThreshold.now("run-1", "mse", 0.3, ("0", "1"), "f1", strategy_value=0.3)
    assert tuned.strategy == "f1" and tuned.split == "val"
    assert tuned.normal_classes == ("0", "1") and tuned.saved.endswith("+00:00")
    tuned.save(path)
    on_disk = json.loads(path.read_text())
    assert on_disk == {"format_version": 2, "run": "run-1", "score": "mse", "threshold": 0.3,
                       "normal_classes": ["0", "1"], "strategy": "f1", "params": {},
                       "split": "val", "costs": None, "budget": None, "counts": None,
                       "saved": tuned.saved, "by": "page"}
    assert SavedThreshold.load(path) == tuned
    assert SavedThreshold.now("r", "mse", 1.0, ()).strategy == "manual"  # no strategy applied


GOOD_RECORD = {"score": "mse", "threshold": 0.5, "normal_classes": ["0"], "strategy": "f1",
               "run": "r", "saved": "s"}


def record_with(**changes) -> str:
    """GOOD_RECORD as JSON with fields changed (None: removed)."""
    record = {**GOOD_RECORD, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not None})


def test_a_good_record_loads(tmp_path) -> None:
    path = tmp_path / "threshold-mse.json"
    path.write_text(record_with())
    assert SavedThreshold.load(path) == SavedThreshold(0.5, "mse", "f1", "val", ("0",), "r", "s",
                                                       format_version=1)  # no format_version: 1


@pytest.mark.parametrize("content", [
    "not json", "[1, 2]", '"text"', record_with(threshold="0.5"), record_with(threshold=True),
    record_with(threshold=float("nan")), record_with(threshold=float("inf")),
    record_with(normal_classes="0"), record_with(normal_classes=[0]), record_with(strategy=None),
    record_with(run=None), record_with(score=3), record_with(split="train"),
], ids=["not-json", "list", "string", "text-value", "bool-value", "nan-value", "inf-value",
        "classes-text", "classes-ints", "no-strategy", "no-run", "score-int", "bad-split"])
def test_malformed_saved_threshold_reads_as_none(tmp_path, content) -> None:
    path = tmp_path / "threshold-mse.json"
    path.write_text(content)
    assert SavedThreshold.load(path) is None
    assert SavedThreshold.load(tmp_path / "missing.json") is None


def test_saved_threshold_from_before_split_existed_still_loads(tmp_path) -> None:
    path = tmp_path / "threshold-mse.json"
    for strategy, split in (("manual", "test"), ("percentile=99", "val")):
        path.write_text(json.dumps({"run": "r", "score": "mse", "threshold": 2, "normal_classes": ["0"],
                                    "strategy": strategy, "saved": "2024-05-01T10:00:00+00:00"}))
        saved = SavedThreshold.load(path)
        assert saved.split == split and saved.value == 2.0 and isinstance(saved.value, float)


def test_saved_threshold_lives_with_the_run_and_must_match(settings) -> None:
    run = open_store(settings).get("digits-anomaly-ae")
    path = saved_threshold_path(run, settings, "knn")
    assert path == cache_dir(run, settings) / "threshold-knn.json"
    assert saved_threshold_for(run, settings, "knn", ("0",)) is None  # nothing saved yet
    SavedThreshold.now(run.id, "knn", 1.5, ("0", "1")).save(path)
    assert saved_threshold_for(run, settings, "knn", ("0", "1")).value == 1.5
    assert saved_threshold_for(run, settings, "knn", ("0",)) is None  # other normal classes
    SavedThreshold.now(run.id, "mse", 1.5, ("0", "1")).save(path)  # a record of another score
    assert saved_threshold_for(run, settings, "knn", ("0", "1")) is None


def test_latent_scores_fit_codes_with_dead_units() -> None:
    """Found at K49 size: after one epoch some code units sit at a large constant. In float32
    the mixture's variances came out negative and the whole scoring failed."""
    from core.anomaly.scores import Mahalanobis, MixtureNLL, NearestNeighbours

    rng = np.random.default_rng(0)
    codes = np.zeros((20_000, 32), np.float32)
    codes[:, :8] = rng.normal(0, 1, (20_000, 8))
    codes[:, 8:16] = 300.0 + rng.normal(0, 1e-3, (20_000, 8))  # stuck near a large constant
    for score in (MixtureNLL(), Mahalanobis(), NearestNeighbours()):
        values = score.fit(codes[:5_000]).score(codes[5_000:6_000])
        assert values.shape == (1_000,) and np.isfinite(values).all(), score.name
    far = codes[:10].copy()
    far[:, :8] += 8.0  # far from every normal code: scored as less likely than the normal ones
    gmm = MixtureNLL().fit(codes[:5_000])
    assert gmm.score(far).min() > np.median(gmm.score(codes[5_000:6_000]))
