"""The Evaluate page through AppTest, on the shipped classifier and on a real two-class run."""
from __future__ import annotations

import base64

import numpy as np
from streamlit.runtime.memory_media_file_storage import _calculate_file_id

from core.data.dataset import load_dataset
from core.evaluation.classification import cell_members, predict
from core.evaluation.sweep import ThresholdSweep
from core.runs.store import open_store
from core.training.config import TrainConfig, run_config
from core.training.runner import train_run
from dashboard.images import gallery_png, to_display
from tests.apptest_helpers import metric, open_page, panel_data


def test_shipped_classifier_metrics_and_cell_images(settings) -> None:
    at = open_page("evaluate", run="digits-classifier")
    run = open_store(settings).get("digits-classifier")
    p = predict(run, "test", settings)
    assert metric(at, "accuracy") == f"{np.mean(p.y_true == p.y_pred):.4f}"
    assert at.dataframe[0].value.shape[0] == 10  # one row per class
    # choose a cell: true 3 predicted 3 holds the correctly classified 3s, most confident first
    at.selectbox(key="cell_true").set_value("3")
    at.selectbox(key="cell_pred").set_value("3").run()
    expected = int(((p.y_true == 3) & (p.y_pred == 3)).sum())
    assert any(f"**{expected}** images of **3** predicted as **3**" in m.value for m in at.markdown)
    # one labelled picture of the cell's images, most confident first: the very PNG core's
    # ranking gives (Streamlit names a media file by its content)
    rows = cell_members(p, 3, 3)[:40]
    assert set(p.index[rows]) <= set(p.index[(p.y_true == 3) & (p.y_pred == 3)].tolist())
    images = load_dataset(run_config(run).dataset, settings).images[p.index[rows]]
    png = gallery_png(to_display(images), [f"#{p.index[r]} · {p.confidence[r]:.2f}" for r in rows])
    (cell_image,) = at.get("image")[:1]
    assert _calculate_file_id(png, "image/png") in cell_image.proto.imgs[0].url
    at.toggle(key="cm_normalized").set_value(True).run()
    assert not at.exception


def test_binary_run_threshold_panel_gets_the_sweep_and_keeps_the_value(settings) -> None:
    store = open_store(settings)
    config = TrainConfig(dataset="digits?classes=3,8", model="mlp", model_params={"hidden": [16]},
                         loss="bce", epochs=2, schedule="none", lr=1e-2)
    run = store.create(config)
    assert train_run(run, config)[0] == "done"
    at = open_page("evaluate", run=run.id)
    assert not at.exception
    p = predict(run, "test", settings)
    table = ThresholdSweep(p.proba[:, 1], p.y_true == 1).table()
    data = panel_data(at, "binary_threshold")
    assert data["value"] == 0.5 and data["bounds"] == [0.0, 1.0]
    assert data["labels"] == {"score": "P(8)", "positive": "8", "negative": "3"}
    thresholds = np.frombuffer(base64.b64decode(data["payload"]["table"]["thresholds"]), "<f8")
    assert np.array_equal(thresholds, table.thresholds)
    assert data["payload"]["table"]["n_pos"] == int((p.y_true == 1).sum())
    for threshold in (0.95, 0.05, 0.5):  # what the panel's commit callback stores
        at.session_state["binary_threshold"] = threshold
        at.run()
        assert panel_data(at, "binary_threshold")["value"] == threshold
    at.session_state["binary_threshold"] = 7.0  # out of range: clipped to the probability axis
    at.run()
    assert panel_data(at, "binary_threshold")["value"] == 1.0
    at.selectbox(key="binary_positive").set_value("3").run()  # the other class as the positive one
    data = panel_data(at, "binary_threshold")
    assert data["labels"] == {"score": "P(3)", "positive": "3", "negative": "8"}
    assert data["payload"]["table"]["n_pos"] == int((p.y_true == 0).sum())
    table = ThresholdSweep(p.proba[:, 0], p.y_true == 0).table()
    thresholds = np.frombuffer(base64.b64decode(data["payload"]["table"]["thresholds"]), "<f8")
    assert np.array_equal(thresholds, table.thresholds)


def test_no_classifier_runs_gives_guidance(settings, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DASH_WEIGHTS", str(tmp_path / "no-weights"))
    at = open_page("evaluate")
    assert "No classifier run" in at.info[0].value


def test_several_cells_give_a_stratified_gallery_that_says_so(settings) -> None:
    at = open_page("evaluate", run="digits-classifier")
    at.session_state["model.evaluate.cells@digits-classifier"] = [[3, 3], [8, 8]]
    at.run()
    assert not at.exception, at.exception
    # 40 of the two cells' images, one gallery picture (labels drawn in it); which rows are
    # taken is core.data.sampling.stratified's job, tested on its own below
    assert len(at.get("image")) == 2  # the cells' gallery and the mistakes', one picture each
    assert any("Showing 40 of" in c.value and "an equal share of each selected cell" in c.value
               for c in at.caption)
    assert at.query_params["cell"] == "3-3,8-8"


def test_stratified_takes_an_equal_share_of_each_group() -> None:
    from core.data.sampling import stratified

    groups = np.array([9] * 350 + [4] * 277 + [1] * 3)  # a box of nines, fours and three ones
    rows = np.arange(len(groups))
    picked = stratified(rows, groups, 60)
    counts = dict(zip(*np.unique(groups[picked], return_counts=True)))
    assert counts[1] == 3 and abs(counts[4] - counts[9]) <= 1 and len(picked) == 60
    assert picked[groups[picked] == 9].tolist() == rows[groups == 9][:counts[9]].tolist()  # ranked
    assert stratified(rows[:0], groups[:0], 5).tolist() == []
