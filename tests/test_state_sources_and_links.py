"""The session model through the real app (AppTest), issue 22: preprocessing steps belong to the
source they were set for; the dataset (and Evaluate's ROC classes) is in the address bar on every
page; each page keeps its own run in use; run pickers tell runs named alike apart; Train proposes
a fresh run name."""
from __future__ import annotations

import pytest

from core.data.preprocess import CRACKS_RECIPE
from core.data.spec import DatasetSpec
from core.runs.store import open_store
from core.training.config import TrainConfig
from core.training.runner import train_run
from tests import data_writers as dw
from tests.apptest_helpers import metric, open_page


def test_steps_stay_with_the_source_they_were_set_for(settings, data_root) -> None:
    dw.write_image_folder(data_root / "cracks", n_per_class=6, size=(40, 40), corrupt=False,
                          stray_text=False)
    dw.write_mnist_idx(data_root / "mnist", n_train=40, n_test=10)
    at = open_page("data")
    at.selectbox(key="ds_source").set_value("folder").run()
    at.text_input(key="ds_root_folder").set_value(str(data_root / "cracks")).run()
    next(b for b in at.button if b.label == "Use the crack-photo recipe").click().run()
    assert at.multiselect(key="ds_steps").value == list(CRACKS_RECIPE)
    assert metric(at, "image size") == "32 x 32 x 1"

    at.selectbox(key="ds_source").set_value("mnist").run()
    at.text_input(key="ds_root_mnist").set_value(str(data_root / "mnist")).run()
    assert not at.exception, at.exception
    assert at.multiselect(key="ds_steps").value == []  # the folder's recipe did not follow
    assert metric(at, "image size") == "28 x 28 x 1"
    assert DatasetSpec.from_text(at.query_params["dataset"]).steps == ()

    at.selectbox(key="ds_source").set_value("folder").run()  # and it comes back with the folder
    assert at.multiselect(key="ds_steps").value == list(CRACKS_RECIPE)
    assert DatasetSpec.from_text(at.query_params["dataset"]).steps == CRACKS_RECIPE


def test_the_dataset_is_in_the_address_bar_on_every_page(settings, data_root) -> None:
    dw.write_mnist_idx(data_root / "mnist", n_train=40, n_test=10)
    at = open_page("data")
    at.selectbox(key="ds_source").set_value("mnist").run()
    at.text_input(key="ds_root_mnist").set_value(str(data_root / "mnist")).run()
    chosen = at.query_params["dataset"]
    assert DatasetSpec.from_text(chosen).source == "mnist"
    for page in ("runs", "evaluate", "predict", "home"):
        at.switch_page(f"../pages/{page}.py").run()
        assert not at.exception, at.exception
        assert at.query_params["dataset"] == chosen, page
    # What a reload of that address does: a new session opened with it keeps the dataset.
    again = open_page("evaluate", dataset=chosen, run="digits-classifier")
    assert again.query_params["dataset"] == chosen
    again.switch_page("../pages/data.py").run()
    assert again.selectbox(key="ds_source").value == "mnist"
    assert again.query_params["dataset"] == chosen


def test_the_roc_classes_are_in_the_link_and_a_link_reopens_them(settings) -> None:
    at = open_page("evaluate", run="digits-classifier")
    assert "roc" not in at.query_params  # the default (the first ten classes) says nothing
    at.multiselect(key="roc_classes").set_value(["1", "7"]).run()
    assert at.query_params["roc"] == "1,7"
    again = open_page("evaluate", run="digits-classifier", roc="7,1,99,x,²")
    assert again.multiselect(key="roc_classes").value == ["7", "1"]
    assert not again.exception


def test_predict_and_latent_each_keep_their_own_run(settings) -> None:
    at = open_page("predict")
    at.selectbox(key="run_picker").set_value("digits-vae").run()
    at.switch_page("../pages/latent.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="run_picker").value != "digits-vae"  # not Predict's run
    at.selectbox(key="run_picker").set_value("digits-classifier").run()
    at.switch_page("../pages/predict.py").run()
    assert at.selectbox(key="run_picker").value == "digits-vae"
    assert at.query_params["run"] == "digits-vae"


@pytest.fixture
def twin_runs(settings):
    """Two finished runs with one name, on different datasets."""
    runs = []
    for dataset in ("digits?classes=3,8", "digits?classes=1,7"):
        config = TrainConfig(dataset=dataset, model="mlp", model_params={"hidden": [8]}, epochs=1,
                             schedule="none", name="twin")
        run = open_store(settings).create(config)
        assert train_run(run, config)[0] == "done"
        runs.append(run)
    return runs


def test_run_pickers_tell_runs_named_alike_apart(settings, twin_runs) -> None:
    at = open_page("evaluate", run=twin_runs[0].id)
    options = at.selectbox(key="run_picker").options
    twins = [o for o in options if o.startswith("twin ")]
    assert len(twins) == 2 and len(set(twins)) == 2
    for run, dataset in zip(twin_runs, ("digits?classes=3,8", "digits?classes=1,7")):
        assert any(run.id in o and dataset in o for o in twins)
    compare = at.multiselect(key="compare_runs").options
    assert any(twin_runs[1].id in o and "digits?classes=1,7" in o for o in compare)


def test_train_proposes_a_fresh_name_once_a_name_is_taken(settings, twin_runs) -> None:
    at = open_page("train")
    at.text_input(key="train_name").set_value("twin").run()
    assert at.text_input(key="train_name").value == "twin-2"
    assert any("twin is taken" in c.value for c in at.caption)
    at.text_input(key="train_name").set_value("something new").run()
    assert at.text_input(key="train_name").value == "something new"


def test_fresh_name_counts_on() -> None:
    from dashboard.widgets.train_form import fresh_name

    assert fresh_name("cnn", set()) == "cnn-2"
    assert fresh_name("cnn", {"cnn", "cnn-2"}) == "cnn-3"
    assert fresh_name("cnn-2", {"cnn", "cnn-2"}) == "cnn-3"
    assert fresh_name("a-b", {"a-b"}) == "a-b-2"
    assert fresh_name("x-" + "9" * 50, set()) == "x-" + "9" * 50 + "-2"
