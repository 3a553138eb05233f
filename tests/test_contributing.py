"""Each "how to add X" recipe in CONTRIBUTING.md, done for real.

File-based recipes (a source file, a model file, a config field) are done in a copy of the
code, so the repository is never edited, and checked through the CLI the copy runs. Class-based
recipes (a score, a threshold strategy) and the pages' pickers are checked in-process.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.anomaly import scores as anomaly_scores
from core.anomaly import strategies
from core.anomaly.scores import ReconstructionScore, compute_scores
from core.anomaly.strategies import AutoThreshold, make_strategy, offered_strategies
from core.cli import main as cli_main
from core.data.sources import base as sources_base
from core.models import MODELS, Kind
from core.models.registry import _entry
from core.runs.store import open_store
from core.training.config import run_config
from tests.apptest_helpers import open_page

REPO = Path(__file__).resolve().parent.parent

SQUARES_SOURCE = '''
"""Test-only source: bright squares vs blank images."""
from dataclasses import dataclass

import numpy as np

from core.data.sources.base import RawData, register


@dataclass(frozen=True)
class SquaresSource:
    name: str = "squares"
    title: str = "Squares (test)"
    description: str = "Bright squares vs blank images, made up on the spot."
    needs_root: bool = False

    def fingerprint(self, spec) -> str:
        return "v1"

    def load(self, spec, download, progress) -> RawData:
        rng = np.random.default_rng(0)
        labels = np.arange(60) % 2
        images = rng.integers(0, 30, (60, 1, 12, 12)).astype(np.uint8)
        images[labels == 1, :, 3:9, 3:9] = 250
        return RawData(train_images=images, train_labels=labels, classes=["blank", "square"])


register(SquaresSource())
'''

TINY_MODEL = '''
"""Test-only model file: a linear classifier, registered by importing this module."""
from torch import nn

from core.models.kinds import Kind
from core.models.registry import register


def tiny_linear(in_shape, n_outputs, scale: float = 1.0):
    c, h, w = in_shape
    return TinyLinear(c * h * w, n_outputs)


class TinyLinear(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.body = nn.Flatten()
        self.output = nn.Linear(n_in, n_out)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.output(self.features(x))


register("tiny_linear", Kind.CLASSIFIER, "Tiny linear", "One linear layer.", tiny_linear)
'''


CONTRACTIVE_AE = '''
"""Test-only model file: a contractive autoencoder (Rifai et al., 2011), with its own penalty."""
import torch
from torch import nn

from core.models.kinds import Kind
from core.models.output import ModelOutput
from core.models.registry import register


class ContractiveAE(nn.Module):
    def __init__(self, in_shape, code_dim: int = 16, weight: float = 0.1):
        super().__init__()
        c, h, w = in_shape
        self.in_shape, self.weight = tuple(in_shape), float(weight)
        self.enc, self.dec = nn.Linear(c * h * w, code_dim), nn.Linear(code_dim, c * h * w)

    def encode(self, x):
        return torch.sigmoid(self.enc(x.flatten(1)))

    def decode(self, code):
        return torch.sigmoid(self.dec(code)).view(-1, *self.in_shape)

    def features(self, x):
        return self.encode(x)

    def forward(self, x):
        return self.decode(self.encode(x))

    def training_output(self, x):
        code = self.encode(x)
        # squared Frobenius norm of d code / d x for a sigmoid layer: sum_j (h_j (1 - h_j))^2 |W_j|^2
        jacobian = ((code * (1 - code)) ** 2 * self.enc.weight.pow(2).sum(1)).sum(1).mean()
        return ModelOutput(recon=self.decode(code), code=code,
                           penalties={"contractive": self.weight * jacobian})


register("contractive_ae", Kind.AUTOENCODER, "Contractive AE", "Penalises the encoder's Jacobian.",
         ContractiveAE)
'''

MAX_ERROR_SCORE = '''
"""Test-only score file: the largest absolute pixel error."""
from core.anomaly.scores import ReconstructionScore


class MaxPixelError(ReconstructionScore):
    name = "max_error"
    description = "largest absolute pixel error"

    def per_image(self, f):
        return (f.recon - f.x).flatten(1).abs().max(1).values
'''


@pytest.fixture
def code_copy(tmp_path: Path) -> Path:
    """A copy of the code (core, dashboard, pages) to add files to."""
    copy = tmp_path / "repo"
    for name in ("core", "dashboard", "pages"):
        shutil.copytree(REPO / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def run_copy(copy: Path, *args: str, workspace: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy), "DASH_WORKSPACE": str(workspace),
           "DASH_WEIGHTS": str(REPO / "weights")}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_source_is_one_new_file_in_core_data_sources(code_copy: Path, tmp_path: Path) -> None:
    (code_copy / "core/data/sources/squares.py").write_text(SQUARES_SOURCE)
    listed = run_copy(code_copy, "sources", "--json", workspace=tmp_path / "ws")
    assert listed.returncode == 0, listed.stderr
    assert "squares" in [s["name"] for s in json.loads(listed.stdout)]
    described = run_copy(code_copy, "describe", "squares", "--json", workspace=tmp_path / "ws")
    assert described.returncode == 0, described.stderr
    info = json.loads(described.stdout)
    assert info["classes"] == ["blank", "square"] and sum(info["images"].values()) == 60


def test_a_registered_source_appears_in_the_data_page_picker(settings, monkeypatch) -> None:
    namespace: dict = {}
    exec(compile(SQUARES_SOURCE.replace("register(SquaresSource())", ""), "squares", "exec"),
         namespace)
    monkeypatch.setitem(sources_base._REGISTRY, "squares", namespace["SquaresSource"]())
    at = open_page("data")
    picker = at.selectbox(key="ds_source")
    assert "squares" in picker.options or "Squares (test)" in picker.options
    picker.set_value("squares").run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["classes"] == "2"


def test_a_model_is_one_file_in_core_models(code_copy: Path, tmp_path: Path) -> None:
    (code_copy / "core/models/tiny_linear.py").write_text(TINY_MODEL)
    listed = run_copy(code_copy, "models", "--json", workspace=tmp_path / "ws")
    assert listed.returncode == 0, listed.stderr
    assert "tiny_linear" in [m["name"] for m in json.loads(listed.stdout)]
    trained = run_copy(code_copy, "train", "--model", "tiny_linear", "--epochs", "2",
                       "--schedule", "none", workspace=tmp_path / "ws")
    assert trained.returncode == 0, trained.stderr
    assert "done: best val_acc" in trained.stdout


def _last_epoch(workspace: Path) -> dict:
    (run_dir,) = (workspace / "runs").iterdir()
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r for r in records if r["type"] == "epoch"][-1]


def test_a_model_with_its_own_penalty_is_one_file(code_copy: Path, tmp_path: Path) -> None:
    """A contractive autoencoder: its penalty reaches the loss through the model contract
    (ModelOutput.penalties), with no edit to the loop, the losses or the registry."""
    (code_copy / "core/models/contractive_ae.py").write_text(CONTRACTIVE_AE)
    epochs = {}
    for weight in (0, 1):
        workspace = tmp_path / f"ws{weight}"
        trained = run_copy(code_copy, "train", "--model", "contractive_ae", "--epochs", "1",
                           "--schedule", "none", "--param", f"weight={weight}", workspace=workspace)
        assert trained.returncode == 0, trained.stderr
        epochs[weight] = _last_epoch(workspace)
    # with the mse loss, val_loss = val_mse + the mean penalty
    assert epochs[0]["val_loss"] == pytest.approx(epochs[0]["val_mse"], rel=1e-5)
    assert epochs[1]["val_loss"] - epochs[1]["val_mse"] > 1e-4
    assert epochs[1]["train_loss"] > epochs[0]["train_loss"]  # the same seed, plus the penalty


def test_a_score_is_one_file_in_core_anomaly(code_copy: Path, tmp_path: Path) -> None:
    (code_copy / "core/anomaly/score_max_error.py").write_text(MAX_ERROR_SCORE)
    helped = run_copy(code_copy, "threshold", "--help", workspace=tmp_path / "ws")
    assert "max_error" in helped.stdout
    out = run_copy(code_copy, "threshold", "digits-anomaly-ae", "--score", "max_error", "--json",
                   workspace=tmp_path / "ws")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["score"] == "max_error" and 0 < result["threshold"] <= 1


def test_a_registered_model_appears_in_the_train_page_picker(settings, monkeypatch) -> None:
    from core.models.classifiers import MLPClassifier

    monkeypatch.setitem(MODELS, "tiny_mlp", _entry("tiny_mlp", Kind.CLASSIFIER, "Tiny MLP",
                                                    "One hidden layer of 8.", MLPClassifier,
                                                    hidden=(8,)))
    at = open_page("train")
    assert "Classifier · Tiny MLP" in at.selectbox(key="train_model").options


def test_a_training_option_is_one_field_of_train_config(code_copy: Path, tmp_path: Path) -> None:
    config = code_copy / "core/training/config.py"
    text = config.read_text()
    anchor = '    seed: int = option(0, help="seed for weights, shuffling and noise")\n'
    assert anchor in text
    config.write_text(text.replace(anchor, anchor + '    label_noise: float = option(0.0, '
                                                     'help="share of labels flipped (test)")\n'))
    helped = run_copy(code_copy, "train", "--help", workspace=tmp_path / "ws")
    assert "--label-noise" in helped.stdout and "share of labels flipped" in helped.stdout
    trained = run_copy(code_copy, "train", "--model", "mlp", "--param", "hidden=[8]",
                       "--epochs", "1", "--schedule", "none", "--label-noise", "0.25",
                       workspace=tmp_path / "ws")
    assert trained.returncode == 0, trained.stderr
    (run_dir,) = (tmp_path / "ws/runs").iterdir()
    assert json.loads((run_dir / "config.json").read_text())["label_noise"] == 0.25


@pytest.fixture
def max_error_score():
    """A score defined the CONTRIBUTING way: one class."""

    class MaxPixelError(ReconstructionScore):
        name = "max_error"
        description = "largest absolute pixel error"

        def per_image(self, f):
            return (f.recon - f.x).flatten(1).abs().max(1).values

    yield MaxPixelError
    del anomaly_scores.SCORES["max_error"]


def test_an_anomaly_score_is_one_class(settings, max_error_score) -> None:
    from core.anomaly.decisions import reconstructions
    from core.data.dataset import load_dataset

    run = open_store(settings).get("digits-anomaly-ae")
    scores = compute_scores(run, settings)
    assert "max_error" in scores.scores
    ds = load_dataset(run_config(run).dataset, settings)
    rows = scores.index[:5]
    recon, _ = reconstructions(run, ds.images[rows])
    by_hand = np.abs(recon.astype(float) - ds.images[rows].astype(float)).reshape(5, -1).max(1)
    # recon is rounded to uint8 here, so compare on the 0..255 scale to within one step
    assert np.allclose(scores.scores["max_error"][:5] * 255, by_hand, atol=1.0)


def test_a_new_score_appears_on_the_anomaly_page(settings, max_error_score) -> None:
    at = open_page("anomaly", run="digits-anomaly-ae")
    assert "max_error" in at.selectbox(key="anomaly_score").options


@pytest.fixture
def median_strategy():
    class MedianNormal(AutoThreshold):
        name = "median"
        title = "median normal"
        explanation = "The median score of the normal validation images."

        def _fit(self, scores, is_anomaly):
            return float(np.median(scores[~is_anomaly]))

    yield MedianNormal
    del strategies.STRATEGY_CLASSES["median"]


def test_a_threshold_strategy_is_one_class(settings, median_strategy, capsys) -> None:
    assert "median" in offered_strategies()
    run = open_store(settings).get("digits-anomaly-ae")
    scores = compute_scores(run, settings)
    val = scores.part("val")
    values, flags = scores.scores["mse"][val], scores.is_anomaly[val]
    assert make_strategy("median").fit(values, flags).threshold_ == np.median(values[~flags])
    assert cli_main(["threshold", "digits-anomaly-ae", "--strategy", "median", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["threshold"] == pytest.approx(np.median(values[~flags]))


def test_a_new_strategy_appears_on_the_anomaly_page(settings, median_strategy) -> None:
    at = open_page("anomaly", run="digits-anomaly-ae")
    assert any(b.label == "median normal" for b in at.button)


def test_contributing_names_files_that_exist() -> None:
    """Every recipe in CONTRIBUTING.md names the files it touches, and they exist."""
    text = (REPO / "CONTRIBUTING.md").read_text()
    for path in ("core/data/sources/", "core/models/registry.py", "core/training/config.py",
                 "core/anomaly/scores.py", "core/anomaly/strategies.py", "dashboard/navigation.py",
                 "core/models/output.py"):
        assert path in text and (REPO / path).exists(), path


def test_the_train_form_draws_every_training_option(settings) -> None:
    """Fields not drawn by hand get a generated widget, so a new field reaches the form."""
    from dataclasses import fields

    from core.training.config import TrainConfig
    from dashboard.widgets.train_form import DRAWN

    generated = [f.name for f in fields(TrainConfig) if f.name not in DRAWN]
    assert generated  # momentum, weight_decay, log_every today
    at = open_page("train")
    keys = {w.key for w in [*at.number_input, *at.text_input, *at.selectbox, *at.checkbox]}
    assert {f"train_more_{name}" for name in generated} <= keys
    at.selectbox(key="train_model").set_value("mlp").run()
    at.number_input(key="train_more_weight_decay").set_value(0.01)
    at.number_input(key="train_more_log_every").set_value(3)
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception and not at.error
    (run,) = [r for r in open_store(settings).list() if not r.read_only]
    assert run_config(run).weight_decay == 0.01 and run_config(run).log_every == 3
    run.request_stop()


def test_a_new_score_and_strategy_reach_the_cli_help_without_edits(max_error_score, median_strategy,
                                                                     capsys) -> None:
    for command in ("threshold", "predict"):
        assert cli_main([command, "--help"]) == 0  # help is an answer, not an error
        shown = " ".join(capsys.readouterr().out.split())
        assert "max_error" in shown and "median" in shown, command
