"""The threshold decision: one record saved and read everywhere (CLI, ship, predict, bundles), the
min-cost and alarm-budget strategies, thresholds in the middle of a separable gap, 95% intervals
checked against scipy, and conformal p-values with Benjamini-Hochberg on new batches."""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy.stats import binomtest
from sklearn.metrics import confusion_matrix

from core.anomaly.record import (
    FORMAT_VERSION,
    PROBABILITY,
    Author,
    ThresholdRecord,
    find_record,
    save_record,
)
from core.anomaly.strategies import make_strategy
from core.data.dataset import load_dataset
from core.errors import UserError
from core.evaluation.intervals import f1_interval, rate_intervals, too_few, wilson
from core.predict.conformal import bh_flags, conformal_p_values
from core.shipping import ship_thresholds, verify

REPO = Path(__file__).resolve().parent.parent
RUN = "digits-anomaly-ae"


def run_cli(*args, cwd=REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "core", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def one_error_line(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    return lines[0]


def write_frames(folder: Path, settings, step: int = 90) -> Path:
    ds = load_dataset("digits", settings)
    folder.mkdir(parents=True)
    for i in range(0, len(ds.images), step):
        Image.fromarray(ds.images[i, 0]).save(folder / f"{i}.png")
    return folder


# -- the record ---------------------------------------------------------------------------------
def test_record_round_trips_and_says_why_it_does_not_apply(tmp_path) -> None:
    record = ThresholdRecord.now("r", "mse", 0.5, ("0", "1"), "cost=1:5", 0.5,
                                 params={"false_alarm": 1.0, "miss": 5.0},
                                 costs={"false_alarm": 1.0, "miss": 5.0}, by=Author.CLI)
    record = record.with_counts([0.1, 0.6, 0.7, 0.2], [False, True, False, True])
    assert record.counts == {"tp": 1, "fp": 1, "tn": 1, "fn": 1}
    path = tmp_path / "threshold-mse.json"
    save_record(record, path)
    assert json.loads(path.read_text())["format_version"] == FORMAT_VERSION
    loaded = ThresholdRecord.load(path)
    assert loaded == record and loaded.by == "cli" and loaded.params == record.params
    assert "costs 1 per false alarm, 5 per miss" in loaded.describe()
    assert find_record([path], "mse", ("0", "1")).record == record
    assert "on mse, not knn" in find_record([path], "knn", ("0", "1")).why_not
    assert "normal classes 0,1, not 0" in find_record([path], "mse", ("0",)).why_not
    newer = {**record.to_json(), "format_version": FORMAT_VERSION + 1}
    path.write_text(json.dumps(newer))
    assert "from a newer smalldl" in find_record([path], "mse", ("0", "1")).why_not
    older = {k: record.to_json()[k] for k in ("run", "score", "threshold", "normal_classes",
                                              "strategy", "saved")}
    path.write_text(json.dumps(older))
    old = find_record([path], "mse", ("0", "1")).record
    assert old.format_version == 1 and "older record format" in old.describe()
    path.write_text(json.dumps({**record.to_json(), "costs": {"false_alarm": -1, "miss": 1}}))
    assert "damaged" in find_record([path], "mse", ("0", "1")).why_not


def test_a_probability_record_outside_0_1_is_refused_in_one_line(tmp_path) -> None:
    """Issue 22: a 2-class bundle with a saved probability threshold of 5 was used silently."""
    path = tmp_path / "threshold-probability.json"
    bad = ThresholdRecord.now("r", PROBABILITY, 5.0, ("3",), "manual")
    save_record(bad, path)
    lookup = find_record([path], PROBABILITY, ())
    assert lookup.record is None and "probability threshold is 5, outside 0 to 1" in lookup.why_not


# -- strategies ---------------------------------------------------------------------------------
def test_max_f1_and_youden_sit_in_the_middle_of_a_separable_gap() -> None:
    """Issue 22: they put the threshold exactly on the lowest validation anomaly score."""
    rng = np.random.default_rng(3)
    normal, anomalies = rng.uniform(0, 1, 200), rng.uniform(3, 4, 14)
    scores = np.r_[normal, anomalies]
    flags = np.r_[np.zeros(200, bool), np.ones(14, bool)]
    for name in ("f1", "youden"):
        s = make_strategy(name).fit(scores, flags)
        assert s.threshold_ == pytest.approx((normal.max() + anomalies.min()) / 2, rel=1e-12)
        assert any("separable" in w for w in s.warnings_)
    overlapping = np.r_[normal, rng.uniform(0.5, 2, 14)]
    s = make_strategy("f1").fit(overlapping, flags)
    assert not any("separable" in w for w in s.warnings_)
    called = overlapping >= s.threshold_
    assert not np.isin(s.threshold_, overlapping)  # between two scores, not on one
    best = max(2 * (called & flags).sum() / (called.sum() + flags.sum()) for called in
               (overlapping[:, None] >= np.unique(overlapping)[None, :]).T)
    assert 2 * (called & flags).sum() / (called.sum() + flags.sum()) == pytest.approx(best)


def test_min_cost_and_alarm_budget_match_a_brute_force_search() -> None:
    rng = np.random.default_rng(7)
    scores = np.round(np.r_[rng.normal(0, 1, 400), rng.normal(2, 1, 40)], 2)  # ties too
    flags = np.r_[np.zeros(400, bool), np.ones(40, bool)]
    candidates = np.r_[np.unique(scores), scores.max() + 1]
    for fa, miss in ((1, 10), (1, 1), (5, 1), (0, 1)):
        t = make_strategy(f"cost={fa}:{miss}").fit(scores, flags).threshold_
        def cost(threshold, fa=fa, miss=miss):
            tn, fp, fn, tp = confusion_matrix(flags, scores >= threshold, labels=[False, True]).ravel()
            return fa * fp + miss * fn
        assert cost(t) == min(cost(c) for c in candidates), (fa, miss)
    for k in (10, 50, 100, 999):
        t = make_strategy(f"budget={k}").fit(scores, flags).threshold_
        alarms = int((scores >= t).sum())
        assert alarms <= k / 1000 * len(scores)
        below = scores[scores < t]
        if len(below):  # one step lower would break the budget
            assert int((scores >= below.max()).sum()) > k / 1000 * len(scores)


@pytest.mark.parametrize("text, message", [
    ("cost=-1:5", "must be a number from 0"), ("cost=0:0", "cannot both be 0"),
    ("cost=nan:1", "must be a number from 0"), ("cost=1:1e300", "must be a number from 0"),
    ("cost=1", "FALSE_ALARM:MISS"), ("cost=a:b", "FALSE_ALARM:MISS"),
    ("budget=0", "more than 0 and less than 1,000"), ("budget=1500", "less than 1,000"),
    ("budget=-3", "more than 0"), ("budget=nan", "finite"),
])
def test_bad_costs_and_budgets_are_one_line(text, message) -> None:
    with pytest.raises(UserError, match=message):
        make_strategy(text)


# -- intervals ----------------------------------------------------------------------------------
def test_wilson_intervals_equal_scipys_and_f1_follows_the_delta_method() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 2000))
        k = int(rng.integers(0, n + 1))
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson(k, n) == pytest.approx((ci.low, ci.high), rel=1e-9, abs=1e-12)
    assert all(math.isnan(v) for v in wilson(0, 0))
    for _ in range(50):  # F1's delta-method variance, from the multinomial covariance
        tp, fp, tn, fn = (int(v) for v in rng.integers(1, 300, 4))
        n = tp + fp + tn + fn
        p = np.array([tp, fp, fn, tn]) / n
        s = 2 * p[0] + p[1] + p[2]
        grad = np.array([2 * (p[1] + p[2]) / s**2, -2 * p[0] / s**2, -2 * p[0] / s**2, 0])
        cov = (np.diag(p) - np.outer(p, p)) / n
        f1, se = 2 * tp / (2 * tp + fp + fn), math.sqrt(grad @ cov @ grad)
        want = (max(0, f1 - 1.959963984540054 * se), min(1, f1 + 1.959963984540054 * se))
        assert f1_interval(tp, fp, fn) == pytest.approx(want, rel=1e-9)
    intervals = rate_intervals(tp=27, fp=95, tn=228, fn=9)
    ci = binomtest(27, 36).proportion_ci(method="wilson")
    assert intervals["tpr"] == pytest.approx((ci.low, ci.high))
    assert "14 anomalies" in too_few(14, 129) and too_few(20, 20) is None


# -- the CLI, ship and predict --------------------------------------------------------------------
def test_threshold_save_is_what_predict_and_the_bundle_use(settings, tmp_path) -> None:
    out = run_cli("threshold", RUN, "--strategy", "budget=100", "--save", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["saved"] and result["test"]["intervals"]["tpr"][0] <= result["test"]["tpr"]
    record = ThresholdRecord.from_json(result["record"])
    assert record.by == "cli" and record.budget == 100 and record.split == "val"
    assert sum(record.counts.values()) == 143  # the validation split behind it
    assert "only 14 anomalies" in out.stderr
    frames = write_frames(tmp_path / "frames", settings)
    on_run = run_cli("predict", RUN, frames, "--json")
    assert on_run.returncode == 0, on_run.stderr
    report = json.loads(on_run.stdout)
    assert report["threshold"]["saved"] == record.to_json() and report["threshold"]["value"] == record.value
    assert run_cli("export", RUN, tmp_path / "bundle").returncode == 0
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert manifest["thresholds"]["mse"] == record.to_json()  # the bundle carries the same record
    bad = one_error_line(run_cli("threshold", RUN, "--strategy", "cost=0:0", "--save"))
    assert "cannot both be 0" in bad
    assert ThresholdRecord.load(Path(settings.cache_dir) / "shipped" / RUN / "threshold-mse.json") == record


def test_the_readme_predict_line_works_on_a_fresh_clone(settings, tmp_path) -> None:
    """The README's `predict digits-anomaly-ae new_frames/ --csv decisions.csv`, nothing saved
    but what weights/ ships."""
    line = next(x for x in (REPO / "README.md").read_text().splitlines() if "new_frames/ --csv" in x)
    args = line.split("#")[0].split()[3:]
    assert args == ["predict", "digits-anomaly-ae", "new_frames/", "--csv", "decisions.csv"]
    write_frames(tmp_path / "new_frames", settings)
    out = run_cli(*args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    csv = pd.read_csv(tmp_path / "decisions.csv")
    assert len(csv) == 20 and {"mse", "threshold", "p_value", "decision"} <= set(csv.columns)
    shipped = json.loads((REPO / "weights" / RUN / "threshold-mse.json").read_text())
    last = out.stdout.strip().splitlines()[-1]
    assert f"mse >= {shipped['threshold']:.6g} [saved:" in last and "by ship" in last


def test_ship_writes_the_same_record_and_verify_checks_it(settings, tmp_path) -> None:
    copy = tmp_path / "weights"
    shutil.copytree(REPO / "weights", copy)
    (copy / RUN / "threshold-mse.json").unlink()
    assert verify(copy) == [f"{copy / RUN / 'threshold-mse.json'} is missing"]
    ship_thresholds(copy, [RUN], echo=lambda *_: None)
    assert verify(copy) == []
    shipped = ThresholdRecord.load(REPO / "weights" / RUN / "threshold-mse.json")
    again = ThresholdRecord.load(copy / RUN / "threshold-mse.json")
    assert (again.value, again.counts, again.strategy, again.by) == (
        shipped.value, shipped.counts, "f1", "ship")
    assert "no shipped run named nosuch" in one_error_line(run_cli("ship", "nosuch", "--thresholds"))


# -- new batches: conformal p-values and Benjamini-Hochberg -------------------------------------------
def test_bh_on_conformal_p_values_controls_the_false_discovery_rate() -> None:
    rng = np.random.default_rng(11)
    fdp = {0.05: [], 0.1: []}
    for _ in range(200):
        calibration = rng.normal(0, 1, 300)
        batch = np.r_[rng.normal(0, 1, 180), rng.normal(3.5, 1, 20)]  # 20 planted anomalies
        truth = np.r_[np.zeros(180, bool), np.ones(20, bool)]
        p = conformal_p_values(calibration, batch)
        for q in fdp:
            flagged = bh_flags(p, q)
            fdp[q].append((flagged & ~truth).sum() / max(1, flagged.sum()))
    means = {q: float(np.mean(v)) for q, v in fdp.items()}
    print("mean false-discovery proportion over 200 batches:", means)
    assert means[0.05] <= 0.05 and means[0.1] <= 0.1
    assert means[0.1] > 0.02  # the test can fail: it flags, and makes mistakes
    p = conformal_p_values(np.arange(10.0), [-1.0, 4.5, 9.0, 100.0])
    assert p.tolist() == [1.0, 6 / 11, 2 / 11, 1 / 11]
    for bad in (0, -0.1, 1, float("nan"), float("inf"), "abc", True):
        with pytest.raises(UserError, match="--fdr is a false-discovery level between 0 and 1"):
            bh_flags(p, bad)
    with pytest.raises(UserError, match="at least 2 images"):
        bh_flags(p[:1], 0.1)


def test_predict_fdr_from_a_run_and_a_bundle(settings, tmp_path) -> None:
    from scipy.stats import false_discovery_control

    frames = write_frames(tmp_path / "frames", settings, step=30)
    assert run_cli("export", RUN, tmp_path / "bundle").returncode == 0
    on_run = run_cli("predict", RUN, frames, "--fdr", "0.1", "--csv", tmp_path / "run.csv", "--json")
    on_bundle = run_cli("predict", tmp_path / "bundle", frames, "--fdr", "0.1", "--csv", tmp_path / "b.csv")
    assert on_run.returncode == 0 and on_bundle.returncode == 0, (on_run.stderr, on_bundle.stderr)
    tables = [pd.read_csv(tmp_path / name, keep_default_na=False) for name in ("run.csv", "b.csv")]
    for csv in tables:
        p = csv["p_value"].astype(float).to_numpy()
        assert ((p > 0) & (p <= 1)).all()
        want = false_discovery_control(p, method="bh") <= 0.1
        assert list(csv["decision"] == "anomaly") == want.tolist()
    report = json.loads(on_run.stdout)
    assert report["fdr"] == 0.1 and report["expected_false_alarms_at_most"] == pytest.approx(
        0.1 * report["flagged"])
    assert [r["p_value"] for r in report["rows"]] == pytest.approx(tables[0]["p_value"].astype(float).tolist())
    assert tables[0]["p_value"].astype(float).to_numpy() == pytest.approx(
        tables[1]["p_value"].astype(float).to_numpy(), abs=1e-6)
    last = on_bundle.stdout.strip().splitlines()[-1]
    assert f"expected false alarms among flagged <= 0.1 x {(tables[1]['decision'] == 'anomaly').sum()}" in last
    assert "--fdr is a false-discovery level" in one_error_line(run_cli("predict", RUN, frames, "--fdr", "abc"))
    single = tmp_path / "single"
    single.mkdir()
    shutil.copy(next(frames.iterdir()), single / "one.png")
    assert "at least 2 images" in one_error_line(run_cli("predict", RUN, single, "--fdr", "0.1"))


def test_the_decision_report_is_one_self_contained_file(settings, tmp_path) -> None:
    out = run_cli("threshold", RUN, "--strategy", "cost=1:5", "--report", tmp_path / "r.html", "--json")
    assert out.returncode == 0, out.stderr
    test = json.loads(out.stdout)["test"]
    html = (tmp_path / "r.html").read_text()
    assert "<script" not in html and "<link" not in html and 'src="http' not in html
    assert "url(" not in html and "@import" not in html  # nothing fetched
    ci = binomtest(test["tp"], test["tp"] + test["fn"]).proportion_ci(method="wilson")
    assert f"TPR {test['tpr']:.3f} [{ci.low:.2f}, {ci.high:.2f}]" in html
    assert f"TP {test['tp']}" in html and "strategy cost=1:5, fitted on the val split" in html
    assert "1 per false alarm, 5 per miss" in html and "conv_ae" in html
    assert html.count("data:image/png;base64,") == 16  # 8 false alarms and 8 misses
    assert "<svg" in html and "threshold " in html
    assert "cannot write the report" in one_error_line(
        run_cli("threshold", RUN, "--report", tmp_path / "missing" / "dir" / "r.html"))


# -- the pages save the same record ---------------------------------------------------------------
def test_anomaly_page_min_cost_button_saves_its_costs_and_counts(settings) -> None:
    from core.anomaly.decisions import saved_threshold_path
    from core.anomaly.scores import compute_scores
    from core.runs.store import open_store
    from tests.apptest_helpers import open_page, panel_data

    run = open_store(settings).get(RUN)
    at = open_page("anomaly", run=RUN)
    shipped = ThresholdRecord.load(REPO / "weights" / RUN / "threshold-mse.json")
    assert panel_data(at, "anomaly_threshold")["value"] == pytest.approx(shipped.value)
    assert any("only 14 anomalies" in w.value for w in at.warning)
    at.number_input(key="anomaly_cost_fa").set_value(2.0).run()
    # the miss cost typed just before the click, not yet drawn: the button fits the costs shown
    at.number_input(key="anomaly_cost_miss").set_value(7.0)
    at.button(key="auto_cost").click().run()
    assert panel_data(at, "anomaly_threshold")["costs"] == [2.0, 7.0]
    a = compute_scores(run, settings)
    val = a.part("val")
    want = make_strategy("cost=2:7").fit(a.scores["mse"][val], a.is_anomaly[val]).threshold_
    assert panel_data(at, "anomaly_threshold")["value"] == pytest.approx(want)
    at.button(key="anomaly_save").click().run()
    assert not at.exception, at.exception
    record = ThresholdRecord.load(saved_threshold_path(run, settings, "mse"))
    assert (record.strategy, record.split, record.by) == ("cost=2:7", "val", "page")
    assert record.costs == {"false_alarm": 2.0, "miss": 7.0} and record.value == pytest.approx(want)
    called = a.scores["mse"][val] >= record.value
    assert record.counts["fp"] == int((called & ~a.is_anomaly[val]).sum())
    assert record.counts["fn"] == int((~called & a.is_anomaly[val]).sum())
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Decision report (HTML)" in labels  # the page's download of the report


def test_evaluate_saves_a_two_class_record_that_predict_and_bundles_apply(settings, tmp_path) -> None:
    from core.predict.bundle import BundleDetector
    from core.predict.detector import RunDetector
    from core.predict.export import export_bundle
    from core.predict.thresholds import resolve_threshold
    from core.runs.store import open_store
    from core.training.config import TrainConfig
    from core.training.runner import train_run
    from tests.apptest_helpers import open_page

    store = open_store(settings)
    config = TrainConfig(dataset="digits?classes=3,8", model="mlp", model_params={"hidden": [16]},
                         loss="bce", epochs=2, schedule="none", lr=1e-2)
    run = store.create(config)
    assert train_run(run, config)[0] == "done"
    at = open_page("evaluate", run=run.id)
    at.selectbox(key="binary_positive").set_value("3").run()
    at.session_state["binary_threshold"] = 0.3
    at.run()
    at.button(key="binary_save").click().run()
    assert not at.exception, at.exception
    choice = resolve_threshold(RunDetector(run, settings), None)
    assert (choice.value, choice.positive, choice.saved.by) == (0.3, "3", "page")
    export_bundle(run, tmp_path / "bundle", settings)
    assert resolve_threshold(BundleDetector(tmp_path / "bundle"), None).positive == "3"
    manifest = tmp_path / "bundle" / "manifest.json"
    m = json.loads(manifest.read_text())
    m["thresholds"][PROBABILITY]["threshold"] = 5
    manifest.write_text(json.dumps(m))
    with pytest.raises(UserError, match="probability threshold is 5, outside 0 to 1"):
        resolve_threshold(BundleDetector(tmp_path / "bundle"), None)
