"""The Predict page through AppTest on the shipped digits runs: dropped files and typed folders,
the threshold's provenance, and every number checked against core's predict on the same files."""
from __future__ import annotations

import io
import re
import zipfile

from PIL import Image

from core.anomaly.decisions import SavedThreshold, saved_threshold_path
from core.data.dataset import load_dataset
from core.predict.apply import predict_images
from core.predict.detector import RunDetector
from core.predict.inputs import open_input
from core.predict.result import SortOrder
from core.predict.thresholds import resolve_threshold
from core.runs.store import open_store
from core.training.config import run_config
from tests.apptest_helpers import metric, open_page

RUN = "digits-anomaly-ae"


def shown(text: str) -> str:
    """What the browser shows for Markdown the page escaped."""
    return re.sub(r"\\(.)", r"\1", text)


def png(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def digits_zip(settings, rows=range(0, 1797, 90)) -> bytes:
    ds = load_dataset("digits", settings)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i in rows:
            zf.writestr(f"camera/{'late/' if i % 180 else ''}{i}.png", png(ds.images[i, 0]))
        zf.writestr("camera/broken.png", b"\x89PNG broken")
    return buffer.getvalue()


def core_result(settings, folder, score="mse", threshold="f1", run_id=RUN):
    detector = RunDetector(open_store(settings).get(run_id), settings)
    images = open_input(str(folder), settings, folder, detector.recipe)
    return predict_images(detector, images, resolve_threshold(detector, score, threshold))


def test_a_dropped_zip_is_predicted_as_core_predicts_it(settings) -> None:
    at = open_page("predict", run=RUN)
    assert any("by ship" in shown(s.value) for s in at.success)  # the threshold weights/ ships
    assert at.radio(key=f"predict_how_{RUN}_mse").value == "saved"
    at.radio(key=f"predict_how_{RUN}_mse").set_value("strategy").run()
    assert at.selectbox(key="predict_strategy").value == "f1"
    at.file_uploader(key="predict_upload").set_value(("camera.zip", digits_zip(settings),
                                                      "application/zip")).run()
    assert not at.exception, at.exception
    folder = next(settings.uploads_dir.glob("predict-*"))
    expected = core_result(settings, folder)
    n, k = len(expected.scored), expected.flagged()
    assert (n, len(expected.errors)) == (20, 1)
    assert metric(at, "Images scored") == "20" and metric(at, "Left out") == "1"
    assert metric(at, "Flagged as anomalies") == f"{k:,}"
    assert metric(at, "Share flagged") == f"{k / n:.1%}"
    captions = [shown(im.captions[0]) for im in at.get("image")]
    order = expected.order(SortOrder.HIGHEST)[:12]
    assert [c.split(" · ")[0] for c in captions] == [expected.names[r] for r in order]
    decisions = expected.decisions()
    assert all(c.endswith(decisions[r]) for c, r in zip(captions, order))
    table = at.dataframe[-1].value  # the table of every image (the first lists those left out)
    assert len(table) == 21 and table.loc[table["file"] == "camera/broken.png", "error"].item()
    assert len(at.get("plotly_chart")) == 1 and len(at.get("download_button")) == 2
    kept = at.session_state["predict_result"][1]

    at.radio(key=f"predict_how_{RUN}_mse").set_value("value").run()
    at.number_input(key=f"predict_value_{RUN}_mse").set_value(0.03).run()
    assert not at.exception, at.exception
    assert at.session_state["predict_result"][1] is kept  # re-decided, not scored again
    k = int((expected.values[expected.scored] >= 0.03).sum())
    assert metric(at, "Flagged as anomalies") == f"{k:,}"
    at.toggle(key="predict_fdr_on").set_value(True).run()
    at.number_input(key="predict_fdr").set_value(0.1).run()  # Benjamini-Hochberg on p-values
    assert not at.exception, at.exception
    assert metric(at, "Flagged as anomalies") == f"{expected.with_fdr(0.1).flagged():,}"
    assert any("false alarms among flagged <= 0.1 x" in shown(c.value) for c in at.caption)


def test_the_saved_threshold_is_shown_and_used(settings) -> None:
    run = open_store(settings).get(RUN)
    SavedThreshold.now(run.id, "mse", 0.02, run_config(run).normal_classes, "f1", 0.02).save(
        saved_threshold_path(run, settings, "mse"))
    at = open_page("predict", run=RUN)
    assert any(shown(s.value).startswith("Saved threshold: mse >= 0.02 (strategy f1, tuned on "
                                         "val") for s in at.success)
    assert at.radio(key=f"predict_how_{RUN}_mse").value == "saved"
    at.file_uploader(key="predict_upload").set_value(("camera.zip", digits_zip(settings),
                                                      "application/zip")).run()
    expected = core_result(settings, next(settings.uploads_dir.glob("predict-*")),
                           threshold="saved")
    assert metric(at, "Flagged as anomalies") == f"{expected.flagged():,}"
    assert any("saved with the run" in shown(c.value) for c in at.caption)


def test_a_folder_is_read_only_inside_the_data_roots(settings, data_root, tmp_path) -> None:
    ds = load_dataset("digits", settings)
    for folder in (data_root / "frames", tmp_path / "elsewhere"):
        folder.mkdir()
        for i in range(5):
            Image.fromarray(ds.images[i, 0]).save(folder / f"{i}.png")
    at = open_page("predict", run=RUN)
    at.radio(key="predict_from").set_value("folder").run()
    at.text_input(key="predict_folder").input(str(tmp_path / "elsewhere")).run()
    assert any("outside the allowed data folders" in shown(e.value) for e in at.error)
    assert not at.get("image")
    (data_root / "frames" / "link.png").symlink_to(tmp_path / "elsewhere" / "0.png")
    at.text_input(key="predict_folder").input(str(data_root / "frames")).run()
    assert not at.exception and not at.error
    assert metric(at, "Images scored") == "5" and len(at.get("image")) == 5
    table = at.dataframe[-1].value
    assert "leads outside the allowed data folders" in table.set_index("file").loc["link.png", "error"]


def test_a_classifier_run_shows_predicted_classes(settings, tmp_path) -> None:
    ds = load_dataset("digits", settings)
    files = [(f"digit {i}.png", png(ds.images[i, 0]), "image/png") for i in range(6)]
    at = open_page("predict", run="digits-classifier")
    assert [r.key for r in at.radio] == ["predict_from"]  # ten classes: no threshold to choose
    at.file_uploader(key="predict_upload").set_value(files).run()
    assert not at.exception, at.exception
    expected = core_result(settings, next(settings.uploads_dir.glob("predict-*")), None, "saved",
                           "digits-classifier")
    predicted = dict(zip(expected.names, expected.decisions()))
    captions = [shown(im.captions[0]).split(" · ") for im in at.get("image")]
    assert len(captions) == 6 and all(predicted[name] == cls for name, _, cls in captions)
    assert metric(at, "Images scored") == "6"


def test_the_page_is_in_the_navigation_and_on_home() -> None:
    from dashboard.navigation import PAGES

    assert [p.url_path for p in PAGES if p.file == "pages/predict.py"] == ["predict"]
    at = open_page("home")
    assert any(link.label == "**Predict**" for link in at.get("page_link"))


def test_a_run_trained_on_every_class_takes_a_value(settings) -> None:
    at = open_page("predict", run="digits-vae")
    assert any("trained on every class" in i.value for i in at.info)
    assert at.radio(key="predict_how_digits-vae_mse").options == ["a value"]
    at.number_input(key="predict_value_digits-vae_mse").set_value(0.02).run()
    at.file_uploader(key="predict_upload").set_value(("camera.zip", digits_zip(settings),
                                                      "application/zip")).run()
    assert not at.exception and not at.error, (at.exception, at.error)
    expected = core_result(settings, next(settings.uploads_dir.glob("predict-*")), "mse", "0.02",
                           "digits-vae")
    assert metric(at, "Flagged as anomalies") == f"{expected.flagged():,}"
    assert any("No test scores to compare with" in shown(i.value) for i in at.info)
    assert any("No bundle" in c.value for c in at.caption)


def test_the_typed_folder_outlives_a_visit_to_another_page(settings, data_root) -> None:
    ds = load_dataset("digits", settings)
    (data_root / "frames").mkdir()
    for i in range(3):
        Image.fromarray(ds.images[i, 0]).save(data_root / "frames" / f"{i}.png")
    at = open_page("predict", run=RUN)
    at.radio(key="predict_from").set_value("folder").run()
    at.text_input(key="predict_folder").input(str(data_root / "frames")).run()
    assert metric(at, "Images scored") == "3"
    at.switch_page("../pages/home.py").run()
    at.switch_page("../pages/predict.py").run()
    assert not at.exception
    assert at.text_input(key="predict_folder").value == str(data_root / "frames")
    assert metric(at, "Images scored") == "3"
