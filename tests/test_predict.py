"""Predict on new images (core), on the shipped digits runs and folders the tests write: scores
equal to the run's own, the run's preprocessing applied exactly, the threshold's provenance,
files left out with their reason, and each bad input refused in one line."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.anomaly.decisions import SavedThreshold, saved_threshold_path
from core.anomaly.scores import Scorer, compute_scores
from core.anomaly.strategies import make_strategy
from core.data.dataset import load_dataset
from core.errors import UserError
from core.evaluation.classification import predict as evaluate_predict
from core.predict.apply import predict_images
from core.predict.detector import PROBABILITY, RunDetector
from core.predict.inputs import InputKind, open_input
from core.predict.thresholds import ThresholdSource, resolve_threshold
from core.runs.store import open_store
from core.training.config import TrainConfig, run_config
from core.training.runner import train_run
from tests import data_writers as dw

RUN = "digits-anomaly-ae"


def write_digits(folder: Path, images: np.ndarray, rows) -> dict[str, int]:
    """Lossless PNGs of these dataset rows at several depths; {relative name: row}."""
    names = {}
    for k, r in enumerate(rows):
        sub = folder / ("deep/er", "a", "")[k % 3]
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"digit_{r}.png"
        Image.fromarray(images[r, 0]).save(path)
        names[path.relative_to(folder).as_posix()] = int(r)
    return names


@pytest.fixture
def anomaly(settings):
    run = open_store(settings).get(RUN)
    return run, RunDetector(run, settings), compute_scores(run, settings), load_dataset("digits",
                                                                                         settings)


def test_scores_and_decisions_equal_the_runs_own(settings, tmp_path, anomaly) -> None:
    run, detector, a, ds = anomaly
    test = a.part("test")[:40]
    names = write_digits(tmp_path / "new", ds.images, a.index[test])
    (tmp_path / "new" / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (tmp_path / "new" / "notes.txt").write_text("not an image")
    images = open_input(str(tmp_path / "new"), settings, tmp_path / "work", detector.recipe)
    assert images.kind == InputKind.FOLDER and len(images) == 42
    val = a.part("val")
    for score in ("mse", "knn"):
        choice = resolve_threshold(detector, score, "f1")
        expected = make_strategy("f1").fit(a.scores[score][val], a.is_anomaly[val]).threshold_
        assert choice.value == pytest.approx(expected) and choice.source == ThresholdSource.STRATEGY
        result = predict_images(detector, images, choice, batch_size=16)
        assert len(result.scored) == 40
        row_of = {name: row for row, name in zip(test, a.index[test])}
        want = np.array([a.scores[score][row_of[names[result.names[i]]]] for i in result.scored])
        np.testing.assert_allclose(result.values[result.scored], want, rtol=1e-5, atol=1e-6)
        decisions = result.decisions()[result.scored]
        assert list(decisions) == ["anomaly" if v >= choice.value else "normal" for v in want]
        assert result.flagged() == int((want >= choice.value).sum())
    reasons = {result.names[r]: why for r, why in result.errors.items()}
    assert set(reasons) == {"a/broken.png", "notes.txt"}
    assert reasons["a/broken.png"].startswith("cannot decode") and "not an image" in reasons["notes.txt"]
    frame = result.frame()
    assert list(frame.columns) == ["file", "knn", "threshold", "p_value", "decision", "error"]
    assert (frame["error"] != "").sum() == 2 and frame["knn"].isna().sum() == 2


def test_saved_threshold_is_used_with_its_provenance(settings, anomaly) -> None:
    run, detector, a, _ = anomaly
    shipped = resolve_threshold(detector, "mse")  # the threshold `ship` saved in weights/
    assert shipped.saved.by == "ship" and shipped.saved.strategy == "f1"
    assert shipped.saved.counts == {"tp": 14, "fp": 39, "tn": 90, "fn": 0}  # on val, as fitted
    with pytest.raises(UserError, match=r"no saved threshold for knn.*Anomaly page.*f1.*percentile=99"):
        resolve_threshold(detector, "knn")
    normal = run_config(run).normal_classes
    SavedThreshold.now(run.id, "mse", 0.02, normal, "f1", 0.02).save(
        saved_threshold_path(run, settings, "mse"))
    choice = resolve_threshold(detector, "mse", "saved")
    assert (choice.value, choice.source, choice.saved.strategy) == (0.02, ThresholdSource.SAVED, "f1")
    assert "strategy f1" in choice.detail and "tuned on val" in choice.detail
    assert detector.default_score() == "mse"
    SavedThreshold.now(run.id, "knn", 3.0, ("0", "1"), "manual").save(
        saved_threshold_path(run, settings, "knn"))
    assert detector.saved_threshold("knn") is None  # saved for other normal classes
    value = resolve_threshold(detector, "mse", "0.5")
    assert (value.value, value.source) == (0.5, ThresholdSource.VALUE)
    with pytest.raises(UserError, match="finite"):
        resolve_threshold(detector, "mse", "nan")
    with pytest.raises(UserError, match="unknown strategy"):
        resolve_threshold(detector, "mse", "best")
    with pytest.raises(UserError, match="unknown score"):
        resolve_threshold(detector, "accuracy", "0.1")


def test_bad_inputs_are_refused_or_left_out_with_a_reason(settings, tmp_path, anomaly) -> None:
    run, detector, a, ds = anomaly
    recipe, work = detector.recipe, tmp_path / "work"
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no files"):
        open_input(str(tmp_path / "empty"), settings, work, recipe)
    with pytest.raises(UserError, match="no such file or folder"):
        open_input(str(tmp_path / "missing/photos"), settings, work, recipe)
    with pytest.raises(UserError, match="not a folder, an image, a .zip or a dataset spec"):
        open_input("imagenet?root=x", settings, work, recipe)
    with pytest.raises(UserError, match="leave steps= out"):
        open_input("digits?steps=invert", settings, work, recipe)
    folder = tmp_path / "mixed"
    folder.mkdir()
    gray = ds.images[a.index[a.part("test")[0]], 0]
    Image.fromarray(gray).save(folder / "gray.png")
    Image.fromarray(gray).convert("RGB").save(folder / "colour.png")  # converted as training did
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(folder / "big.png")
    Image.new("L", (4100, 4100)).save(folder / "huge.png")
    result = predict_images(detector, open_input(str(folder), settings, work, recipe),
                            resolve_threshold(detector, "mse", "0.01"))
    by_name = dict(zip(result.names, result.values))
    assert by_name["colour.png"] == pytest.approx(by_name["gray.png"], abs=1e-7)
    reasons = {result.names[r]: why for r, why in result.errors.items()}
    assert "does not resize" in reasons["big.png"] and "is 16x16" in reasons["big.png"]
    assert "4100x4100 pixels" in reasons["huge.png"] and "limit" in reasons["huge.png"]
    only_bad = tmp_path / "bad"
    only_bad.mkdir()
    (only_bad / "x.jpg").write_bytes(b"no")
    bad = predict_images(detector, open_input(str(only_bad), settings, work, recipe),
                         resolve_threshold(detector, "mse", "0.01"))
    with pytest.raises(UserError, match=r"no image in .* could be used \(1 file"):
        bad.require_some()


def test_zip_single_image_and_dataset_spec_inputs(settings, tmp_path, anomaly) -> None:
    run, detector, a, ds = anomaly
    recipe, work = detector.recipe, tmp_path / "work"
    names = write_digits(tmp_path / "src", ds.images, a.index[a.part("val")[:6]])
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in names:
            zf.write(tmp_path / "src" / name, f"batch/{name}")
    zipped = open_input(str(archive), settings, work, recipe)
    assert zipped.kind == InputKind.ZIP and sorted(zipped.names) == sorted(names)
    one = next(iter(names))
    single = open_input(str(tmp_path / "src" / one), settings, work, recipe)
    assert single.kind == InputKind.IMAGE and single.names == [Path(one).name]
    spec = open_input("digits?classes=8,9", settings, work, recipe)
    assert spec.kind == InputKind.DATASET and set(spec.labels) == {"8", "9"}
    assert len(spec) == int(np.isin(ds.labels, [8, 9]).sum())
    choice = resolve_threshold(detector, "mse", "0.015")
    result = predict_images(detector, spec, choice)
    dataset_rows = [int(n.split("/")[1]) for n in result.names]
    np.testing.assert_allclose(result.values, Scorer(run).score(ds.images[dataset_rows],
                                                                names=("mse",))["mse"], atol=1e-7)
    assert list(result.frame()["class"]) == spec.labels


def test_a_folder_run_gets_its_own_mode_size_and_steps(settings, data_root) -> None:
    """A run trained on folder?size=16&mode=L&steps=blur: new files score exactly as its dataset
    images do, and images of other sizes are resized as training resized them."""
    dw.write_image_folder(data_root / "leaks", classes=("leak", "normal"), n_per_class=12,
                          size=(20, 16), fmt_cycle=("png",), corrupt=False, stray_text=False)
    spec = f"folder?root={data_root / 'leaks'}&size=16&mode=L&steps=blur:1.0"
    config = TrainConfig(dataset=spec, model="conv_ae", model_params={"channels": [8], "code_dim": 8},
                         epochs=1, batch_size=8, normal_classes=("normal",), schedule="none")
    run = open_store(settings).create(config)
    assert train_run(run, config)[0] == "done"
    detector = RunDetector(run, settings)
    assert detector.recipe.in_shape == (1, 16, 16) and detector.recipe.steps == ("blur:1.0",)
    images = open_input(str(data_root / "leaks"), settings, data_root / "w", detector.recipe)
    result = predict_images(detector, images, resolve_threshold(detector, "mse", "0.05"))
    ds = load_dataset(spec, settings)  # rows in the loader's order: class folders, sorted files
    np.testing.assert_allclose(result.values, Scorer(run).score(ds.images, names=("mse",))["mse"],
                               atol=1e-7)
    Image.new("RGB", (40, 33), (200, 10, 10)).save(data_root / "leaks" / "normal" / "odd.png")
    images = open_input(str(data_root / "leaks"), settings, data_root / "w", detector.recipe)
    result = predict_images(detector, images, resolve_threshold(detector, "mse", "0.05"))
    assert not result.errors and len(result.scored) == 25


def test_classifier_predicts_classes_and_a_two_class_threshold(settings, tmp_path) -> None:
    store = open_store(settings)
    run = store.get("digits-classifier")
    detector = RunDetector(run, settings)
    ds = load_dataset("digits", settings)
    p = evaluate_predict(run, "test", settings, ds)
    names = write_digits(tmp_path / "new", ds.images, p.index[:30])
    choice = resolve_threshold(detector, None)
    assert choice.source == ThresholdSource.DEFAULT and choice.value is None
    result = predict_images(detector, open_input(str(tmp_path / "new"), settings, tmp_path,
                                                 detector.recipe), choice)
    row_of = {int(i): k for k, i in enumerate(p.index)}
    want = np.array([p.proba[row_of[names[n]]] for n in result.names])
    np.testing.assert_allclose(result.values, want, atol=1e-6)
    assert list(result.decisions()) == [p.classes[i] for i in want.argmax(1)]
    with pytest.raises(UserError, match="not a strategy"):
        resolve_threshold(detector, None, "f1")
    with pytest.raises(UserError, match="2-class"):
        resolve_threshold(detector, None, "0.7")

    config = TrainConfig(dataset="digits?classes=3,8", model="mlp", model_params={"hidden": [16]},
                         loss="bce", epochs=2, schedule="none", lr=1e-2)
    binary = store.create(config)
    assert train_run(binary, config)[0] == "done"
    detector = RunDetector(binary, settings)
    images = open_input("digits?classes=3,8", settings, tmp_path, detector.recipe)
    strict = predict_images(detector, images, resolve_threshold(detector, None, "0.9"))
    assert list(strict.decisions()) == ["8" if p1 >= 0.9 else "3" for p1 in strict.values[:, 1]]
    SavedThreshold.now(binary.id, PROBABILITY, 0.2, (), "manual").save(
        saved_threshold_path(binary, settings, PROBABILITY))
    saved = resolve_threshold(detector, None)
    assert (saved.value, saved.source) == (0.2, ThresholdSource.SAVED)
    argmax = resolve_threshold(detector, None, "argmax")
    assert (argmax.value, argmax.source) == (None, ThresholdSource.DEFAULT)
    assert list(strict.with_threshold(argmax).decisions()) == [
        "8" if p1 > 0.5 else "3" for p1 in strict.values[:, 1]]
    loose = strict.with_threshold(saved)
    assert list(loose.decisions()) == ["8" if p1 >= 0.2 else "3" for p1 in strict.values[:, 1]]
    assert loose.counts()["8"] >= strict.counts().get("8", 0)


def test_dropped_files_are_kept_as_one_bounded_folder(settings, tmp_path) -> None:
    from core.predict.uploads import save_uploads

    ds = load_dataset("digits", settings)
    image = io.BytesIO()
    Image.fromarray(ds.images[0, 0]).save(image, format="PNG")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("inner/a.png", image.getvalue())
    files = [(".hidden*.png", image.getvalue()), ("../up.png", image.getvalue()),
             ("up.png", image.getvalue()), ("batch.zip", archive.getvalue())]
    folder = save_uploads(files, tmp_path / "uploads")
    assert save_uploads(files, tmp_path / "uploads") == folder  # the same content, kept once
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert names == ["batch/a.png", "hidden_.png", "up-2.png", "up.png"]
    with pytest.raises(UserError, match="more than the limit of 3"):
        save_uploads(files, tmp_path / "uploads", max_files=3)
    with pytest.raises(UserError, match="add up to more than"):
        save_uploads(files, tmp_path / "uploads", max_bytes=100)
    assert len(list((tmp_path / "uploads").iterdir())) == 1  # nothing half-written


def test_the_terminal_progress_bar_only_draws_on_a_terminal() -> None:
    from core.predict.commands import terminal_progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert terminal_progress(io.StringIO()) is None  # a log or a pipe gets no bar
    screen = Terminal()
    show = terminal_progress(screen)
    show(0.5, "512/1,024 images")
    show(1.0, "1,024/1,024 images")
    assert screen.getvalue() == ("\r[" + "#" * 15 + " " * 15 + "] 512/1,024 images"
                                 "\r[" + "#" * 30 + "] 1,024/1,024 images\n")
