"""The Train and Runs pages through AppTest, with a short real run launched as a process."""
from __future__ import annotations

from core.runs.store import open_store
from core.shipping import SHIPPED
from core.training.config import TrainConfig, run_config
from tests.apptest_helpers import open_page
from tests.polling import wait_for


def wait_until_finished(store, run_id: str, timeout: float = 120) -> dict:
    return wait_for(lambda: (s := store.get(run_id).status())["state"] not in ("queued", "running") and s,
                    timeout=timeout)


def test_train_page_starts_a_real_run_and_shows_its_curves(settings) -> None:
    at = open_page("train")
    assert "No run yet" in at.info[0].value
    at.selectbox(key="train_model").set_value("mlp").run()
    at.number_input(key="train_epochs").set_value(3)
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception and not at.error
    store = open_store(settings)
    (run,) = [r for r in store.list() if not r.read_only]
    assert run_config(run).model == "mlp" and run_config(run).epochs == 3
    status = wait_until_finished(store, run.id)
    assert status["state"] == "done"
    at.run()
    assert any("Finished" in s.value for s in at.success)
    (chart,) = at.get("plotly_chart")
    assert '"train per epoch"' in chart.proto.spec and '"val per epoch"' in chart.proto.spec


def train_button(at):
    return next(b for b in at.button if b.label == "Train")


def test_invalid_settings_disable_train_with_the_reason(settings) -> None:
    at = open_page("train")
    at.selectbox(key="train_model").set_value("default_cnn").run()
    at.selectbox(key="train_loss").set_value("bce").run()
    assert train_button(at).disabled
    assert [w.value for w in at.warning] == [
        "Cannot train: a binary head needs exactly 2 classes, the data has 10"]
    at.selectbox(key="train_loss").set_value("auto").run()
    assert not train_button(at).disabled and not at.warning
    at.slider(key="ds_val").set_value(0.0).run()  # no validation images: training would fail
    assert train_button(at).disabled
    assert "the validation split is empty" in at.warning[0].value
    at.slider(key="ds_val").set_value(0.2).run()
    at.text_input(key="arch_channels").set_value("16, x").run()
    assert train_button(at).disabled and "whole numbers" in at.warning[0].value
    assert not at.exception
    assert not [r for r in open_store(settings).list() if not r.read_only]


def test_custom_model_sizes_reach_the_run(settings) -> None:
    at = open_page("train")
    at.selectbox(key="train_model").set_value("mlp").run()
    at.text_input(key="arch_hidden").set_value("32, 16").run()
    at.number_input(key="train_epochs").set_value(1).run()
    train_button(at).click().run()
    assert not at.exception
    (run,) = [r for r in open_store(settings).list() if not r.read_only]
    assert run_config(run).model_params == {"hidden": [32, 16]}
    status = wait_until_finished(open_store(settings), run.id)
    assert status["state"] == "done" and status["n_parameters"] == 64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10


def test_runs_page_lists_shipped_runs_and_compares_curves(settings) -> None:
    at = open_page("runs")
    table = at.dataframe[0].value
    shipped = table[table["shipped"]]
    assert set(shipped["name"]) == {c.name for c in SHIPPED.values()}
    assert set(shipped["status"]) == {"done"} and shipped["best"].notna().all()
    at.multiselect(key="runs_selected").set_value(["digits-classifier", "digits-conv-ae"]).run()
    assert not at.exception
    (chart,) = at.get("plotly_chart")
    assert "Digits classifier" in chart.proto.spec and "Digits conv autoencoder" in chart.proto.spec
    assert any(b.label == "Download checkpoint" for b in at.get("download_button"))
    assert any("read-only" in c.value for c in at.caption)


def test_runs_page_opens_a_run_in_the_evaluate_page(settings) -> None:
    at = open_page("runs")
    at.multiselect(key="runs_selected").set_value(["digits-classifier"]).run()
    next(b for b in at.button if b.label == "Open in Evaluate").click().run()
    assert not at.exception
    assert at.title[0].value == "Evaluate"
    assert at.selectbox(key="run_picker").value == "digits-classifier"


def _fake_run(settings, state: str, **status):
    """A run folder whose status says `state` (no process behind it unless status gives one)."""
    import json
    import os
    import socket

    store = open_store(settings)
    run = store.create(TrainConfig(dataset="digits", model="mlp", epochs=1))
    from core.runs.process import identity

    # pid and start time: a bare pid is never taken as proof of life
    fields = {"state": state, "host": socket.gethostname(), **identity(os.getpid()), **status}
    (run.path / "status.json").write_text(json.dumps(fields))
    return run


def test_stop_only_while_a_run_is_active(settings) -> None:
    active = _fake_run(settings, "running")  # "alive": its pid is this test's process
    failed = _fake_run(settings, "failed", error="the validation split is empty")
    at = open_page("train")
    at.session_state["model.train.watched"] = [failed.id]  # as if started from this page
    at.run()
    assert at.button(key=f"stop_{active.id}").label == "Stop"
    assert not any(b.key == f"stop_{failed.id}" for b in at.button)
    assert any("Failed: the validation split is empty" in e.value for e in at.error)
    at.button(key=f"stop_{active.id}").click().run()
    assert active.stop_requested()
    at.run()
    stopping = at.button(key=f"stop_{active.id}")
    assert stopping.label == "Stopping…" and stopping.disabled


def test_curve_charts_say_what_they_show() -> None:
    from dashboard.figures import training_curves_figure

    for quality, title in (("val_acc", "accuracy"), ("val_mse", "validation MSE per pixel")):
        fig = training_curves_figure([], quality_metric=quality)  # before the first epoch too
        assert [a.text for a in fig.layout.annotations] == ["loss", title]
    records = [{"step": s, "train_loss": 2.0 / s} for s in range(1, 40)]
    log = training_curves_figure(records, log_y=True, quality_metric="val_acc")
    assert log.layout.yaxis.type == "log" and log.layout.yaxis.tickformat == ".2~g"


def test_schedules_are_shown_whole() -> None:
    from core.training.config import SCHEDULES
    from dashboard.widgets.train_form import SCHEDULE_TITLES

    assert set(SCHEDULE_TITLES) == set(SCHEDULES) and SCHEDULE_TITLES["onecycle"] == "one-cycle"


def test_training_problems_name_what_cannot_run(settings) -> None:
    from core.data.dataset import load_dataset
    from core.training.preflight import training_problems

    digits = load_dataset("digits", settings)
    assert training_problems(TrainConfig(model="mlp"), digits) == []
    no_val = load_dataset("digits?val_fraction=0", settings)
    assert any("validation split is empty" in p for p in training_problems(TrainConfig(model="mlp"), no_val))
    assert training_problems(TrainConfig(model="mlp", loss="bce"), digits) == [
        "a binary head needs exactly 2 classes, the data has 10"]
    assert "does not fit a classifier" in training_problems(TrainConfig(model="mlp", loss="mse"),
                                                            digits)[0]
    every = tuple(digits.classes)
    assert "every class is normal" in training_problems(
        TrainConfig(model="conv_ae", normal_classes=every), digits)[0]
    assert "hidden" in training_problems(TrainConfig(model="mlp", model_params={"hidden": [0]}),
                                         digits)[0]
