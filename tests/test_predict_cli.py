"""`python -m core predict` and `export` as a user runs them: real subprocesses on the shipped
digits runs and a folder the test writes; CSV and JSON checked against core; one error line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from core.anomaly.decisions import SavedThreshold, saved_threshold_path
from core.data.dataset import load_dataset
from core.predict.apply import predict_images
from core.predict.detector import RunDetector
from core.predict.inputs import open_input
from core.predict.thresholds import resolve_threshold
from core.runs.store import open_store
from core.training.config import run_config

REPO = Path(__file__).resolve().parent.parent
RUN = "digits-anomaly-ae"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def one_error_line(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in out.stderr
    return lines[0]


def write_folder(folder: Path, settings) -> Path:
    ds = load_dataset("digits", settings)
    for i in range(0, 1797, 60):
        sub = folder / ("batch-1" if i % 120 else "batch-2/late")
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(ds.images[i, 0]).save(sub / f"{i}.png")
    (folder / "batch-1" / "readme.md").write_text("# not an image")
    return folder


def test_predict_writes_the_csv_and_json_core_computes(settings, tmp_path) -> None:
    folder = write_folder(tmp_path / "new", settings)
    out = run_cli("predict", RUN, folder, "--threshold", "f1", "--csv", tmp_path / "out.csv",
                  "--json", "--batch-size", "7")
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip() == "left out batch-1/readme.md: not an image file (" + \
        out.stderr.split("(", 1)[1].strip()
    detector = RunDetector(open_store(settings).get(RUN), settings)
    images = open_input(str(folder), settings, tmp_path, detector.recipe)
    expected = predict_images(detector, images, resolve_threshold(detector, "mse", "f1"))
    csv = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert list(csv["file"]) == expected.names and len(csv) == 31
    scored = csv[csv["error"] == ""]
    np.testing.assert_allclose(scored["mse"].astype(float), expected.values[expected.scored],
                               atol=1e-7)
    assert list(scored["decision"]) == list(expected.decisions()[expected.scored])
    report = json.loads(out.stdout)
    assert report["threshold"]["source"] == "strategy" and report["threshold"]["score"] == "mse"
    assert report["threshold"]["value"] == expected.threshold.value
    assert (report["scored"], report["flagged"]) == (30, expected.flagged())
    assert report["left_out"] == [{"file": "batch-1/readme.md",
                                   "reason": expected.errors[expected.names.index("batch-1/readme.md")]}]


def test_saved_threshold_by_default_and_each_bad_input_in_one_line(settings, tmp_path) -> None:
    folder = write_folder(tmp_path / "new", settings)
    line = one_error_line(run_cli("predict", RUN, folder, "--score", "knn"))
    assert "no saved threshold for knn" in line and "f1" in line and "tnr=0.95" in line
    run = open_store(settings).get(RUN)
    SavedThreshold.now(run.id, "mse", 0.014, run_config(run).normal_classes, "manual").save(
        saved_threshold_path(run, settings, "mse"))
    out = run_cli("predict", RUN, folder)
    assert out.returncode == 0, out.stderr
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("30 images: ") and "mse >= 0.014 [saved: saved with the run" in last
    assert "set by hand, tuned on test" in last and "1 file(s) left out" in last
    (tmp_path / "empty").mkdir()
    assert "holds no files" in one_error_line(run_cli("predict", RUN, tmp_path / "empty"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.png").write_bytes(b"not a png")
    out = run_cli("predict", RUN, bad, "--threshold", "0.1")
    assert out.returncode == 2 and out.stderr.count("\n") == 2  # the file's reason, then the error
    assert out.stderr.startswith("left out a.png: cannot decode") and "error: no image in" in out.stderr


def test_export_then_predict_the_bundle_like_the_run(settings, tmp_path) -> None:
    folder = write_folder(tmp_path / "new", settings)
    out = run_cli("export", RUN, tmp_path / "bundle")
    assert out.returncode == 0, out.stderr
    assert "torchscript model, 6 score(s)" in out.stdout
    frames = []
    for source in (RUN, tmp_path / "bundle"):
        out = run_cli("predict", source, folder, "--score", "gmm_nll", "--threshold",
                      "percentile=99", "--csv", tmp_path / "out.csv")
        assert out.returncode == 0, out.stderr
        frames.append(pd.read_csv(tmp_path / "out.csv", keep_default_na=False))
    on_run, on_bundle = frames
    assert list(on_run["decision"]) == list(on_bundle["decision"])
    np.testing.assert_allclose(pd.to_numeric(on_bundle["gmm_nll"]), pd.to_numeric(on_run["gmm_nll"]),
                               atol=1e-5)
    manifest = tmp_path / "bundle" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"format_version": 1', '"format_version": 2'))
    line = one_error_line(run_cli("predict", tmp_path / "bundle", folder))
    assert "format version 2, from a newer smalldl" in line
