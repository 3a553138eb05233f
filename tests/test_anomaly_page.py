"""The Anomaly page through AppTest on the shipped autoencoder runs, checked against core."""
from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.anomaly import decisions as core_decisions
from core.anomaly.scores import compute_scores
from core.anomaly.strategies import make_strategy
from core.evaluation.sweep import ThresholdSweep
from core.runs.results import cache_dir
from core.runs.store import open_store
from tests.apptest_helpers import open_page, panel_data

RUN = "digits-anomaly-ae"
SLIDER = "anomaly_threshold"


@pytest.fixture
def scores(settings):
    run = open_store(settings).get(RUN)
    return run, compute_scores(run, settings)


def wrong_counts(at: AppTest) -> tuple[int, int]:
    """(false alarms, missed) as the gallery's "Wrong at this threshold" heading says them."""
    text = next(m.value for m in at.markdown if "Wrong at this threshold" in m.value)
    found = re.search(r"\(([\d,]+) false alarms, ([\d,]+) missed", text)
    return int(found.group(1).replace(",", "")), int(found.group(2).replace(",", ""))


def test_committed_threshold_moves_gallery_url_and_panel(settings, scores) -> None:
    run, a = scores
    at = open_page("anomaly", run=RUN)
    assert at.selectbox(key="anomaly_score").value == "mse"
    test = a.part("test")
    sweep = ThresholdSweep(a.scores["mse"][test], a.is_anomaly[test])
    first = panel_data(at, SLIDER)
    assert first["payload"] is not None and first["labels"]["positive"] == "anomaly"
    seen = set()
    for threshold in np.quantile(a.scores["mse"][test], [0.3, 0.7, 0.95]):
        at.session_state[SLIDER] = float(threshold)  # what the panel's commit callback stores
        at.run()
        assert not at.exception, at.exception
        data = panel_data(at, SLIDER)
        assert data["value"] == pytest.approx(threshold) and data["id"] == first["id"]
        assert data["payload"] is None  # the sweep went to the browser once
        counts = sweep.counts(float(threshold))
        assert wrong_counts(at) == (counts.fp, counts.fn)
        seen.add(wrong_counts(at))
        assert float(at.query_params["threshold"]) == pytest.approx(threshold)
    assert len(seen) == 3  # the gallery follows the threshold
    assert at.query_params["run"] == RUN and at.query_params["score"] == "mse"
    # one labelled picture per gallery (most anomalous, closest, wrong), no plotly figure left
    assert len(at.get("image")) == 3 and not at.get("plotly_chart")


def test_panel_payload_is_core_sweep_table(settings, scores) -> None:
    run, a = scores
    at = open_page("anomaly", run=RUN)
    test = a.part("test")
    table = ThresholdSweep(a.scores["mse"][test], a.is_anomaly[test]).table()
    payload = panel_data(at, SLIDER)["payload"]
    decoded = {k: np.frombuffer(base64.b64decode(payload["table"][k]), dtype)
               for k, dtype in (("thresholds", "<f8"), ("below", "<i4"),
                                ("positives_below", "<i4"))}
    assert np.array_equal(decoded["thresholds"], table.thresholds)
    assert np.array_equal(decoded["below"], table.below)
    assert np.array_equal(decoded["positives_below"], table.positives_below)
    assert payload["table"]["exact"] and payload["table"]["n_pos"] == table.n_pos
    histogram = payload["histogram"]
    assert sum(histogram["negatives"]) == table.n_neg and sum(histogram["positives"]) == table.n_pos


def test_default_is_max_f1_on_validation(settings, scores) -> None:
    run, a = scores
    val = a.part("val")
    expected = make_strategy("f1").fit(a.scores["mse"][val], a.is_anomaly[val]).threshold_
    at = open_page("anomaly", run=RUN)
    assert at.session_state[SLIDER] == pytest.approx(expected)
    assert panel_data(at, SLIDER)["value"] == pytest.approx(expected)


def test_auto_threshold_button_sets_the_slider(settings, scores) -> None:
    run, a = scores
    at = open_page("anomaly", run=RUN)
    val = a.part("val")
    strategy = make_strategy("percentile=99").fit(a.scores["mse"][val], a.is_anomaly[val])
    at.button(key="auto_percentile=99").click().run()
    assert not at.exception, at.exception
    assert panel_data(at, SLIDER)["value"] == pytest.approx(strategy.threshold_)
    test = a.part("test")
    counts = ThresholdSweep(a.scores["mse"][test], a.is_anomaly[test]).counts(strategy.threshold_)
    assert wrong_counts(at) == (counts.fp, counts.fn)
    table = at.dataframe[0].value
    assert len(table) == 6 and "test F1" in table.columns and "val F1" in table.columns
    assert any("tuned on the validation split" in c.value for c in at.caption)


def test_query_params_reopen_the_same_view(settings, scores) -> None:
    run, a = scores
    at = open_page("anomaly", run=RUN)
    at.selectbox(key="anomaly_score").set_value("l1").run()
    test = a.part("test")
    threshold = float(np.quantile(a.scores["l1"][test], 0.8))
    at.session_state[SLIDER] = threshold
    at.run()
    query = dict(at.query_params)
    assert query["run"] == RUN and query["score"] == "l1"
    assert float(query["threshold"]) == threshold  # repr: the exact value round-trips
    wrong = wrong_counts(at)

    again = open_page("anomaly", **query)
    assert again.selectbox(key="anomaly_score").value == "l1"
    assert panel_data(again, SLIDER)["value"] == threshold
    assert wrong_counts(again) == wrong


def test_saved_threshold_is_written_and_is_the_next_default(settings, scores) -> None:
    run, a = scores
    at = open_page("anomaly", run=RUN)
    threshold = float(np.quantile(a.scores["mse"][a.part("test")], 0.9))
    at.session_state[SLIDER] = threshold
    at.run()
    at.button(key="anomaly_save").click().run()
    assert not at.exception, at.exception
    path = cache_dir(run, settings) / "threshold-mse.json"
    saved = json.loads(path.read_text())
    assert saved["run"] == RUN and saved["score"] == "mse" and saved["strategy"] == "manual"
    assert saved["threshold"] == pytest.approx(threshold)
    assert saved["normal_classes"] == [str(d) for d in range(9)] and saved["saved"]
    assert any("Saved" in s.value for s in at.success)
    assert panel_data(open_page("anomaly", run=RUN), SLIDER)["value"] == pytest.approx(threshold)


def test_run_trained_on_every_class_asks_for_normal_classes(settings) -> None:
    at = open_page("anomaly", run="digits-vae")
    assert any("choose which classes are normal" in i.value for i in at.info)
    assert not at.get("bidi_component")
    at.multiselect(key="anomaly_normal").set_value(["0"]).run()
    assert not at.exception, at.exception
    assert any("saw the anomaly classes" in w.value for w in at.warning)
    assert "neg_elbo" in at.selectbox(key="anomaly_score").options
    assert at.query_params["normal"] == "0"


def histogram_counts(at: AppTest) -> list[int]:
    """Normal and anomalous test images in the panel's histogram (sent with the sweep)."""
    histogram = panel_data(at, SLIDER)["payload"]["histogram"]
    return [sum(histogram["negatives"]), sum(histogram["positives"])]


def test_balanced_view_has_equal_counts(settings, scores) -> None:
    run, a = scores
    at = open_page("anomaly", run=RUN)
    flags = a.is_anomaly[a.part("test")]
    assert histogram_counts(at) == [int((~flags).sum()), int(flags.sum())]
    at.radio(key="anomaly_view").set_value("balanced").run()
    assert not at.exception, at.exception
    n = int(flags.sum())
    assert histogram_counts(at) == [n, n]
    table = panel_data(at, SLIDER)["payload"]["table"]
    assert table["n_pos"] == table["n_neg"] == n
    at.radio(key="anomaly_view").set_value("imbalanced").run()
    normal, anomalous = histogram_counts(at)
    assert normal == int((~flags).sum())
    assert anomalous == len(core_decisions.view_rows(flags, "imbalanced")) - normal
    assert anomalous / (normal + anomalous) == pytest.approx(0.03, abs=0.005)
    assert at.query_params["view"] == "imbalanced"


def test_classifier_runs_are_not_offered(settings) -> None:
    at = open_page("anomaly", run="digits-classifier")
    assert "digits-classifier" not in at.selectbox(key="run_picker").options
    assert at.selectbox(key="run_picker").value != "digits-classifier"


def _edited_scores_page(edit: str) -> None:
    """A page script: the real run's scores, edited to a bad case, through the page's views."""
    import numpy as np
    import streamlit as st

    from core.anomaly.scores import compute_scores
    from core.data.dataset import load_dataset
    from core.runs.store import open_store
    from core.training.config import run_config
    from dashboard.sections import anomaly_inputs as inputs
    from dashboard.sections import anomaly_threshold as threshold
    from dashboard.state import settings

    run = open_store(settings()).get("digits-anomaly-ae")
    ds = load_dataset(run_config(run).dataset, settings())
    a = compute_scores(run, settings(), ds=ds)
    test = a.part("test")
    if edit == "nan":
        a.scores["mse"][test[:3]] = np.nan
    elif edit == "nan in val":
        a.scores["mse"][a.part("val")[:3]] = np.nan
    elif edit == "equal":
        a.scores["mse"][:] = 0.25
    elif edit == "no anomalies":
        a.is_anomaly[:] = False
    st.session_state.setdefault("anomaly_view", "balanced")
    analysis = inputs.analyse_or_stop(run, ds, a, "mse", st.session_state["anomaly_view"])
    threshold.seed_threshold(analysis)
    threshold.render_auto_thresholds(analysis)
    threshold.render_threshold(analysis)


@pytest.mark.parametrize("edit", ["nan", "nan in val", "equal", "no anomalies"])
def test_bad_scores_give_a_message_not_a_traceback(settings, edit) -> None:
    at = AppTest.from_function(_edited_scores_page, args=(edit,), default_timeout=120).run()
    assert not at.exception, at.exception
    if edit == "nan":
        assert "NaN" in at.error[0].value
        assert not at.get("bidi_component")
    elif edit == "nan in val":  # test scores are fine: the page works, nothing is tuned
        assert at.get("bidi_component")
        table = at.dataframe[0].value
        assert table["threshold"].isna().all() and table["note"].str.contains("NaN").all()
    elif edit == "equal":
        assert any("All scores are equal" in w.value for w in at.warning)
    else:
        assert any("needs both normal and anomalous" in i.value for i in at.info)
        assert any("no positive (anomalous) images" in w.value for w in at.warning)
        assert panel_data(at, SLIDER)["payload"]["auc"] is None  # the panel says: no curves
        table = at.dataframe[0].value
        assert pd.isna(table.set_index("strategy").loc["max F1", "threshold"])  # needs anomalies
