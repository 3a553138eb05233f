"""The session model through the real app (AppTest): choices that belong to a run (Evaluate's
curve classes and cell, Anomaly's score, normal classes and threshold) come back with their run,
and reset for another run; Train keeps the runs it started and forgets deleted ones."""
from __future__ import annotations

import numpy as np
import pytest

from core.anomaly.scores import compute_scores
from core.runs.store import open_store
from core.training.config import TrainConfig
from core.training.runner import train_run
from tests.apptest_helpers import open_page, panel_data
from tests.polling import wait_for

AE = "digits-anomaly-ae"


@pytest.fixture
def two_class_run(settings):
    config = TrainConfig(dataset="digits?classes=3,8", model="mlp", model_params={"hidden": [16]},
                         epochs=2, schedule="none", lr=1e-2, name="threes and eights")
    run = open_store(settings).create(config)
    assert train_run(run, config)[0] == "done"
    return run


def test_evaluate_choices_belong_to_their_run(settings, two_class_run) -> None:
    at = open_page("evaluate", run="digits-classifier")
    at.multiselect(key="roc_classes").set_value(["1", "7"]).run()
    at.selectbox(key="cell_true").set_value("4").run()
    at.selectbox(key="cell_pred").set_value("9").run()
    assert at.query_params["cell"] == "4-9"

    at.selectbox(key="run_picker").set_value(two_class_run.id).run()
    assert not at.exception, at.exception
    assert at.multiselect(key="roc_classes").value == ["3", "8"]  # this run's classes
    assert at.selectbox(key="cell_true").options == ["3", "8"]
    assert at.query_params["run"] == two_class_run.id
    table = at.dataframe[-1].value
    assert table["run"].iloc[0] == "threes and eights"  # the comparison starts with this run

    at.switch_page("../pages/runs.py").run()
    at.switch_page("../pages/evaluate.py").run()
    assert at.selectbox(key="run_picker").value == two_class_run.id  # the current run stays
    at.selectbox(key="run_picker").set_value("digits-classifier").run()
    assert at.multiselect(key="roc_classes").value == ["1", "7"]
    assert (at.selectbox(key="cell_true").value, at.selectbox(key="cell_pred").value) == ("4", "9")
    assert at.dataframe[-1].value["run"].iloc[0] == "Digits classifier (default CNN)"
    assert not at.exception


def test_two_class_threshold_follows_the_chosen_positive_class(settings, two_class_run) -> None:
    from core.evaluation.classification import predict

    at = open_page("evaluate", run=two_class_run.id)
    assert at.selectbox(key="binary_positive").value == "8"
    at.selectbox(key="binary_positive").set_value("3").run()
    at.session_state["binary_threshold"] = 0.7  # what the panel's commit stores
    at.run()
    p = predict(two_class_run, "test", settings)
    data = panel_data(at, "binary_threshold")
    assert data["value"] == 0.7 and data["labels"]["positive"] == "3"
    assert data["payload"] is None or data["payload"]["table"]["n_pos"] == int((p.y_true == 0).sum())
    assert at.query_params["positive"] == "3" and float(at.query_params["threshold"]) == 0.7
    at.selectbox(key="binary_positive").set_value("8").run()  # the other class has its own value
    assert panel_data(at, "binary_threshold")["value"] == 0.5
    at.selectbox(key="binary_positive").set_value("3").run()
    assert panel_data(at, "binary_threshold")["value"] == 0.7


def test_anomaly_choices_survive_pages_and_run_switches(settings) -> None:
    at = open_page("anomaly", run=AE)
    at.selectbox(key="anomaly_score").set_value("l1").run()
    at.multiselect(key="anomaly_normal").set_value([str(d) for d in range(8)]).run()
    a = compute_scores(open_store(settings).get(AE), settings, tuple(str(d) for d in range(8)))
    tuned = float(np.quantile(a.scores["l1"][a.part("test")], 0.6))
    at.session_state["anomaly_threshold"] = tuned  # what the panel's commit stores
    at.run()

    def same_view() -> None:
        assert not at.exception, at.exception
        assert at.selectbox(key="anomaly_score").value == "l1"
        assert at.multiselect(key="anomaly_normal").value == [str(d) for d in range(8)]
        assert panel_data(at, "anomaly_threshold")["value"] == pytest.approx(tuned)
        assert float(at.query_params["threshold"]) == pytest.approx(tuned)

    at.switch_page("../pages/data.py").run()
    at.switch_page("../pages/anomaly.py").run()
    same_view()
    at.selectbox(key="run_picker").set_value("digits-vae").run()  # trained on every class
    assert at.multiselect(key="anomaly_normal").value == []
    assert at.selectbox(key="anomaly_score").value == "mse"  # its own, not the other run's
    at.multiselect(key="anomaly_normal").set_value(["0"]).run()
    at.selectbox(key="run_picker").set_value(AE).run()
    same_view()
    at.selectbox(key="run_picker").set_value("digits-vae").run()
    assert at.multiselect(key="anomaly_normal").value == ["0"]  # not emptied


def test_an_automatic_threshold_keeps_its_source_until_moved(settings) -> None:
    at = open_page("anomaly", run=AE)
    at.button(key="auto_percentile=99").click().run()
    at.switch_page("../pages/runs.py").run()
    at.switch_page("../pages/anomaly.py").run()
    at.button(key="anomaly_save").click().run()
    assert any("(percentile=99)" in s.value for s in at.success)


def test_train_keeps_its_runs_across_pages_and_forgets_deleted_ones(settings) -> None:
    at = open_page("train")
    at.selectbox(key="train_model").set_value("mlp").run()
    at.number_input(key="train_epochs").set_value(1).run()
    next(b for b in at.button if b.label == "Train").click().run()
    store = open_store(settings)
    (run,) = [r for r in store.list() if not r.read_only]
    wait_for(lambda: run.status()["state"] not in ("queued", "running"), timeout=120)
    for page in ("runs", "train"):
        at.switch_page(f"../pages/{page}.py").run()
    assert not at.exception, at.exception
    assert any("Finished" in s.value for s in at.success)  # still shown after a page change
    assert any(run.id in p.proto.text for p in at.get("progress"))
    run.delete()
    at.run()
    assert not at.exception, at.exception
    assert not at.get("progress") and "No run yet" in at.info[0].value


def test_a_linked_threshold_applies_only_to_its_own_run(settings) -> None:
    linked = open_page("anomaly", run=AE, score="mse", threshold="0.02")
    assert panel_data(linked, "anomaly_threshold")["value"] == pytest.approx(0.02)
    other = open_page("anomaly", run="no-such-run", score="mse", threshold="0.02")
    assert other.selectbox(key="run_picker").value != "no-such-run"
    assert panel_data(other, "anomaly_threshold")["value"] != pytest.approx(0.02)


@pytest.mark.parametrize("page", ["evaluate", "latent"])
def test_a_run_deleted_under_an_open_page_is_one_line(settings, two_class_run, page) -> None:
    """Another tab (or the CLI) deletes the run's checkpoint while this page shows it."""
    at = open_page(page, run=two_class_run.id)
    two_class_run.checkpoint("best").unlink()
    at.run()
    assert not at.exception, at.exception
    warned = [w.value for w in at.warning if two_class_run.id in w.value]
    assert len(warned) == 1 and "is not available here" in warned[0], warned
    assert at.selectbox(key="run_picker").value != two_class_run.id  # another run is shown
    at.run()
    assert not [w for w in at.warning if two_class_run.id in w.value]  # said once
