"""Export -> predict: a bundle gives the run's numbers without the run folder; a bundle that is
damaged, changed, from a newer version or asks for pickle is refused with one clear line."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.anomaly.decisions import SavedThreshold, saved_threshold_path
from core.data.dataset import load_dataset
from core.errors import UserError
from core.predict.apply import predict_images
from core.predict.bundle import BundleDetector, open_bundle, sha256
from core.predict.detector import RunDetector
from core.predict.export import bundle_zip, export_bundle
from core.predict.inputs import open_input
from core.predict.model_files import ModelFormat
from core.predict.thresholds import ThresholdSource, resolve_threshold
from core.runs.store import open_store
from core.settings import Settings
from core.training.config import run_config

REPO = Path(__file__).resolve().parent.parent
RUN = "digits-anomaly-ae"


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The shipped anomaly run with a saved threshold, exported once for this module, and a
    folder of new images (its own workspace: exporting fits and scores, which takes a while)."""
    tmp = tmp_path_factory.mktemp("bundle")
    settings = Settings(workspace=tmp / "workspace", data_roots=(tmp,))
    run = open_store(settings).get(RUN)
    SavedThreshold.now(run.id, "knn", 4.0, run_config(run).normal_classes, "manual").save(
        saved_threshold_path(run, settings, "knn"))
    bundle = export_bundle(run, tmp / "bundle", settings)
    ds = load_dataset("digits", settings)
    folder = tmp / "new"
    folder.mkdir()
    for i in range(0, 1797, 45):
        Image.fromarray(ds.images[i, 0]).save(folder / f"{i}.png")
    return settings, run, bundle, folder


@pytest.fixture
def exported(shipped, tmp_path):
    """shipped, with a copy of the bundle this test may change."""
    settings, run, bundle, folder = shipped
    return settings, run, Path(shutil.copytree(bundle, tmp_path / "bundle")), folder


def _predict(detector, folder: Path, settings, score: str, threshold: str):
    images = open_input(str(folder), settings, folder.parent / "work", detector.recipe)
    return predict_images(detector, images, resolve_threshold(detector, score, threshold))


def test_bundle_predicts_what_the_run_predicts(exported) -> None:
    settings, run, bundle, folder = exported
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["score"] == "knn" and manifest["thresholds"]["knn"]["threshold"] == 4.0
    assert manifest["preprocessing"]["in_shape"] == [1, 8, 8] and manifest["dataset"] == "digits"
    assert set(manifest["files"]) == {"model.pt", "arrays.npz"}
    on_run, on_bundle = RunDetector(run, settings), BundleDetector(bundle)
    assert on_bundle.score_names() == on_run.score_names()
    for score, threshold in (("mse", "f1"), ("gmm_nll", "percentile=99"), ("mahalanobis", "youden"),
                             ("knn", "saved")):
        a = _predict(on_run, folder, settings, score, threshold)
        b = _predict(on_bundle, folder, settings, score, threshold)
        assert b.threshold.value == pytest.approx(a.threshold.value, abs=1e-9), score
        assert b.threshold.source == a.threshold.source
        np.testing.assert_allclose(b.values, a.values, rtol=0, atol=1e-5)
        assert list(b.decisions()) == list(a.decisions()), score
    assert b.threshold.source == ThresholdSource.SAVED and on_bundle.default_score() == "knn"
    test, flags = on_bundle.reference_scores("mse", "test")
    run_test, run_flags = on_run.reference_scores("mse", "test")
    np.testing.assert_array_equal(test, run_test)
    np.testing.assert_array_equal(flags, run_flags)


def test_bundle_zip_and_classifier_round_trip(tmp_path, exported) -> None:
    settings, run, _, folder = exported
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(bundle_zip(run, settings))
    zipped = open_bundle(archive, tmp_path / "unpacked")
    a = _predict(zipped, folder, settings, "mse", "0.015")
    b = _predict(RunDetector(run, settings), folder, settings, "mse", "0.015")
    assert list(a.decisions()) == list(b.decisions())
    classifier = open_store(settings).get("digits-classifier")
    on_bundle = BundleDetector(export_bundle(classifier, tmp_path / "cls", settings))
    on_run = RunDetector(classifier, settings)
    a, b = (_predict(d, folder, settings, None, "saved") for d in (on_bundle, on_run))
    np.testing.assert_allclose(a.values, b.values, atol=1e-5)
    assert list(a.decisions()) == list(b.decisions())


def _onnxruntime_or_skip() -> None:
    """ONNX is an optional extra: skipped without it, except on CI (requirements-dev.txt has it)."""
    try:
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("onnxruntime and onnxscript must be installed on CI (requirements-dev.txt)")
        pytest.skip("the onnx extra is not installed")


def test_onnx_bundle_predicts_what_the_run_predicts(tmp_path, exported) -> None:
    _onnxruntime_or_skip()
    settings, run, _, folder = exported
    bundle = export_bundle(run, tmp_path / "onnx", settings, ModelFormat.ONNX)
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["model_files"] == {"encode": "encode.onnx", "decode": "decode.onnx"}
    on_bundle, on_run = BundleDetector(bundle), RunDetector(run, settings)
    for score in ("mse", "knn", "mahalanobis", "gmm_nll"):
        a = _predict(on_run, folder, settings, score, "f1")
        b = _predict(on_bundle, folder, settings, score, "f1")
        np.testing.assert_allclose(b.values, a.values, rtol=1e-5, atol=1e-5)
        assert list(b.decisions()) == list(a.decisions()), score
    classifier = open_store(settings).get("digits-classifier")
    on_bundle = BundleDetector(export_bundle(classifier, tmp_path / "cls", settings,
                                             ModelFormat.ONNX))
    a, b = (_predict(d, folder, settings, None, "saved")
            for d in (on_bundle, RunDetector(classifier, settings)))
    np.testing.assert_allclose(a.values, b.values, atol=1e-5)
    assert list(a.decisions()) == list(b.decisions())


def _rewrite(bundle: Path, change) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    change(manifest)
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def test_a_changed_or_newer_bundle_is_refused(exported) -> None:
    _, _, bundle, _ = exported
    model = bundle / "model.pt"
    original = model.read_bytes()
    model.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(UserError, match="model.pt does not match its sha256"):
        BundleDetector(bundle)
    model.write_bytes(original)
    BundleDetector(bundle)  # intact again
    _rewrite(bundle, lambda m: m.update(format_version=99))
    with pytest.raises(UserError, match="format version 99, from a newer smalldl.*up to version 1"):
        BundleDetector(bundle)
    _rewrite(bundle, lambda m: m.update(format_version=1, classes="0123"))
    with pytest.raises(UserError, match="damaged: 'classes'"):
        BundleDetector(bundle)
    _rewrite(bundle, lambda m: (m.update(classes=[str(i) for i in range(10)]),
                                m["files"].update({"../escape": "0" * 64})))
    with pytest.raises(UserError, match="outside its folder"):
        BundleDetector(bundle)
    _rewrite(bundle, lambda m: m["files"].pop("../escape"))
    np.savez(bundle / "arrays.npz", evil=np.array([{"a": 1}], dtype=object))
    _rewrite(bundle, lambda m: m["files"].update({"arrays.npz": sha256(bundle / "arrays.npz")}))
    with pytest.raises(UserError, match="cannot be read without pickle"):
        BundleDetector(bundle)
    (bundle / "arrays.npz").unlink()
    with pytest.raises(UserError, match="incomplete: arrays.npz is missing"):
        BundleDetector(bundle)


def test_export_never_writes_into_a_folder_that_holds_something(settings, tmp_path) -> None:
    run = open_store(settings).get(RUN)
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match="not empty"):
        export_bundle(run, target, settings)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    with pytest.raises(UserError, match="trained on every class"):
        export_bundle(open_store(settings).get("digits-vae"), tmp_path / "vae", settings)
    assert not (tmp_path / "vae").exists()


AUDIT = """
import sys
events = []
sys.addaudithook(lambda name, args: events.append(args) if name == "pickle.find_class" else None)
from pathlib import Path
from core.predict.bundle import BundleDetector
from core.predict.inputs import open_input
from core.predict.model_files import ModelFormat
from core.predict.apply import predict_images
from core.predict.thresholds import resolve_threshold
from core.settings import Settings
detector = BundleDetector(Path(sys.argv[1]))
images = open_input(sys.argv[2], Settings.from_env(), Path(sys.argv[3]), detector.recipe)
result = predict_images(detector, images, resolve_threshold(detector, "knn", "f1"))
assert len(result.scored) > 10, result.errors
during = len(events)
import pickle
pickle.loads(pickle.dumps(Path("control")))  # the hook does see an unpickling
print(during, len(events) - during, events[:3])
"""


def test_loading_and_predicting_a_bundle_unpickles_nothing(tmp_path, exported) -> None:
    """Every Python unpickler raises the pickle.find_class audit event for each class it loads."""
    _, _, bundle, folder = exported
    out = subprocess.run([sys.executable, "-c", AUDIT, str(bundle), str(folder), str(tmp_path)],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    during, control = out.stdout.split()[:2]
    assert during == "0" and int(control) >= 1, out.stdout
