"""The session model through the real app (AppTest): the dataset chosen on one page, with every
option, is the one the next page uses, survives errors and folder switches, and the URL both
shows it and reopens it."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.data.spec import DatasetSpec
from dashboard.text import plain
from tests import data_writers as dw
from tests.apptest_helpers import APP, metric, open_page


def caption_of(at: AppTest, start: str) -> str:
    return next(c.value for c in at.caption if c.value.startswith(start))


def test_mnist_with_val_fraction_follows_from_data_to_train_and_back(settings, data_root) -> None:
    dw.write_mnist_idx(data_root / "mnist", n_train=40, n_test=10)
    at = open_page("data")
    at.selectbox(key="ds_source").set_value("mnist").run()
    at.text_input(key="ds_root_mnist").set_value(str(data_root / "mnist")).run()
    at.slider(key="ds_val").set_value(0.2).run()
    spec = DatasetSpec(source="mnist", root=str((data_root / "mnist").resolve()), val_fraction=0.2)
    assert at.query_params["dataset"] == spec.to_text()
    val_images = metric(at, "val images")
    for page in ("train", "data", "train"):  # back and forth: nothing drifts
        at.switch_page(f"../pages/{page}.py").run()
        assert not at.exception, at.exception
        assert at.selectbox(key="ds_source").value == "mnist"
        assert at.slider(key="ds_val").value == 0.2
        assert at.query_params["dataset"] == spec.to_text()
    assert plain(spec.to_text()) in caption_of(at, "Dataset")  # Markdown source, escaped
    assert f"and {val_images} validation images" in caption_of(at, "Dataset")


def test_options_survive_a_path_error_and_a_folder_switch(settings, data_root) -> None:
    for name in ("first", "second"):
        dw.write_image_folder(data_root / name, n_per_class=5, corrupt=False, stray_text=False)
    at = open_page("data")
    at.selectbox(key="ds_source").set_value("folder").run()
    at.slider(key="ds_val").set_value(0.3).run()
    at.multiselect(key="ds_steps").set_value(["invert", "resize:16"]).run()
    at.text_input(key="ds_root_folder").set_value(str(data_root / "missing")).run()
    assert at.error and not at.exception  # the folder is wrong: one line, nothing else lost
    at.text_input(key="ds_root_folder").set_value(str(data_root / "first")).run()
    assert at.slider(key="ds_val").value == 0.3
    assert at.multiselect(key="ds_steps").value == ["invert", "resize:16"]
    at.text_input(key="ds_root_folder").set_value(str(data_root / "second")).run()
    assert not at.exception, at.exception
    assert at.multiselect(key="ds_steps").value == ["invert", "resize:16"]
    assert metric(at, "image size") == "16 x 16 x 3"
    spec = DatasetSpec.from_text(at.query_params["dataset"])
    assert (spec.root, spec.steps, spec.val_fraction) == (
        str((data_root / "second").resolve()), ("invert", "resize:16"), 0.3)


def test_a_link_reopens_the_dataset_with_its_options(settings, data_root) -> None:
    dw.write_image_folder(data_root / "pets", classes=("cat", "dog", "fox"), n_per_class=6,
                          corrupt=False, stray_text=False)
    spec = DatasetSpec(source="folder", root=str((data_root / "pets").resolve()), size=16,
                       classes=("cat", "fox"), val_fraction=0.25, seed=3)
    at = open_page("data", dataset=spec.to_text())
    assert at.selectbox(key="ds_source").value == "folder"
    assert at.text_input(key="ds_root_folder").value == spec.root
    assert at.selectbox(key="ds_size").value == 16
    assert at.text_input(key="ds_classes").value == "cat,fox"
    assert (at.slider(key="ds_val").value, at.number_input(key="ds_seed").value) == (0.25, 3)
    assert metric(at, "classes") == "2"
    assert at.query_params["dataset"] == spec.to_text()


def test_a_hand_edited_link_falls_back_to_the_default(settings) -> None:
    at = open_page("data", dataset="nosuchsource?val_fraction=7")
    assert not at.exception
    assert at.selectbox(key="ds_source").value == "digits"


def test_a_loaded_dataset_is_shared_by_sessions(settings, data_root) -> None:
    """The second session gets the first one's arrays: no second load, nothing replayed."""
    from dashboard.widgets.dataset_loading import loaded_datasets

    dw.write_image_folder(data_root / "shared", n_per_class=5, corrupt=False, stray_text=False)
    sessions = []
    for _ in range(2):
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        at.switch_page("../pages/data.py").run()
        at.selectbox(key="ds_source").set_value("folder").run()
        at.text_input(key="ds_root_folder").set_value(str(data_root / "shared")).run()
        assert not at.exception, at.exception
        sessions.append(at)
    spec = DatasetSpec.from_text(sessions[0].query_params["dataset"])
    cached = [key for key in loaded_datasets()._items if key[0] == spec.to_text()]
    assert len(cached) == 1
    assert metric(sessions[0], "train images") == metric(sessions[1], "train images")


def test_the_uploads_folder_is_always_allowed(settings, data_root, tmp_path: Path) -> None:
    assert settings.workspace not in data_root.parents  # DASH_DATA_ROOTS leaves it out
    upload = settings.uploads_dir / "pets-123"
    upload.mkdir(parents=True)
    assert settings.check_path(upload) == upload.resolve()
    assert settings.uploads_dir.resolve().parent in settings.allowed_roots


def test_a_bound_widget_defaults_to_the_models_value(settings) -> None:
    """A browser that mounts a widget from a run that did not assign its value shows the widget's
    own default and sends it back (a journey once got val_fraction 0.0, the slider's minimum,
    in one of two tabs): a bound widget's own default is the model's value."""
    at = open_page("data")
    at.slider(key="ds_val").set_value(0.25).run()
    at.slider(key="sample_n").set_value(5).run()
    at.run()  # a run that assigns nothing: every widget already shows the model's value
    assert not at.exception, at.exception
    assert list(at.slider(key="ds_val").proto.default) == [0.25]
    assert list(at.slider(key="sample_n").proto.default) == [5]
    assert DatasetSpec.from_text(at.query_params["dataset"]).val_fraction == 0.25
    at.selectbox(key="ds_source").set_value("mnist").run()
    at.run()
    assert at.selectbox(key="ds_source").proto.default == at.selectbox(key="ds_source").index == 3
    assert list(at.slider(key="ds_val").proto.default) == [0.25]
