"""Held this round: a spec naming a class twice, a resume asking fewer epochs than done, a finished
or shipped run trained over, a disputable tolerance that selects nothing. Each is refused in one
line and every file of the run is byte for byte what it was."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.cli import main
from core.data.spec import DatasetSpec
from core.errors import DatasetError, UserError
from core.latent.geometry import disputable
from core.runs.store import open_store
from core.training import checkpoint
from core.training.config import TrainConfig, run_config
from core.training.runner import train_run
from tests.hostile import REPO, assert_one_line

TINY = dict(dataset="digits", model="mlp", model_params={"hidden": [16]}, epochs=2,
            batch_size=64, lr=1e-2, schedule="none", log_every=5, threads=1)


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _files(folder: Path) -> dict[str, str]:
    """Every file under folder with its content's hash (train.lock is the lock, not a record)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "train.lock"}


@pytest.mark.parametrize("text", ["digits?classes=0,1,0", '{"source": "digits", "classes": ["3", "3"]}',
                                  "digits?classes=0,,1"])
def test_a_class_named_twice_is_refused(text: str) -> None:
    with pytest.raises(DatasetError) as err:
        DatasetSpec.from_text(text)
    assert_one_line(str(err.value), "class")


@pytest.mark.parametrize("command", [["describe", "digits?classes=0,1,0"],
                                     ["train", "--epochs", "1", "--dataset", "digits?classes=0,1,0"]])
def test_cli_refuses_a_class_named_twice(settings, capsys, command) -> None:
    code, out, err = _cli(capsys, *command)
    assert code == 2 and out == ""
    assert_one_line(err, "error:", "'0'", "more than once")
    assert not settings.runs_dir.exists() or not any(settings.runs_dir.iterdir())


@pytest.mark.parametrize("tol", ["nan", "-1", "0", "inf"])
def test_disputable_refuses_a_tolerance_that_selects_nothing(capsys, tol) -> None:
    code, out, err = _cli(capsys, "disputable", "digits-classifier", "--tol", tol)
    assert code == 2 and out == ""
    assert_one_line(err, "error:", "tolerance must be a finite number above 0")
    codes = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.5]])
    centres = np.array([[0.0, 0.0], [1.0, 1.0]])
    with pytest.raises(UserError, match="tolerance"):  # the core refuses it too, not only the CLI
        disputable(codes, np.array([0, 1, 0]), centres, float(tol))
    assert list(disputable(codes, np.array([0, 1, 0]), centres, 0.2).rows) == [2]


def test_resume_never_rewrites_the_epochs_done(settings, capsys) -> None:
    run = open_store(settings).create(TrainConfig(**TINY))
    assert train_run(run, run_config(run))[0] == "done"
    before = _files(run.path)
    code, out, err = _cli(capsys, "train", "--resume", run.id, "--epochs", "1")
    assert code == 2
    assert_one_line(err, "error:", "already trained 2 epochs", "more than 2")
    assert _files(run.path) == before
    assert json.loads((run.path / "config.json").read_text())["epochs"] == 2
    # a larger total continues the run and is recorded as its plan
    code, out, err = _cli(capsys, "train", "--resume", run.id, "--epochs", "3")
    assert code == 0, err
    assert run_config(run).epochs == 3 and checkpoint.load(run.checkpoint("last"))["epoch"] == 3
    epochs = [m["epoch"] for m in run.metrics() if m["type"] == "epoch"]
    assert epochs == [1, 2, 3]


def test_a_finished_run_is_never_trained_over(settings, capsys) -> None:
    run = open_store(settings).create(TrainConfig(**TINY))
    assert train_run(run, run_config(run))[0] == "done"
    before = _files(run.path)
    code, out, err = _cli(capsys, "train", "--run", str(run.path), "--epochs", "1")
    assert code == 2
    assert_one_line(err, "error:", "never trained over", "--resume")
    with pytest.raises(UserError, match="never trained over"):
        train_run(run, run_config(run))
    assert _files(run.path) == before and run.status()["state"] == "done"


def test_a_shipped_run_is_never_trained(settings, capsys, tmp_path, monkeypatch) -> None:
    shipped = tmp_path / "weights"
    shutil.copytree(REPO / "weights" / "digits-classifier", shipped / "digits-classifier")
    monkeypatch.setenv("DASH_WEIGHTS", str(shipped))
    before = _files(shipped)
    for command in (["train", "--run", str(shipped / "digits-classifier")],
                    ["train", "--run", str(shipped / "digits-classifier"), "--resume"],
                    ["train", "--resume", str(shipped / "digits-classifier"), "--epochs", "50"],
                    ["train", "--resume", "digits-classifier"]):
        code, out, err = _cli(capsys, *command)
        assert code == 2, (command, err)
        assert_one_line(err, "error:")
        assert "shipped" in err or "never trained over" in err, err
    assert _files(shipped) == before


def test_the_data_page_never_shows_a_phantom_class_from_its_url(settings) -> None:
    """A link naming a class twice is refused like any broken link (the page starts from digits,
    as state.get_spec does for every unusable link): never a 3-class dataset with a phantom."""
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    at.query_params["dataset"] = "digits?classes=0,1,0"
    at.run()
    at.switch_page("../pages/data.py").run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["classes"] == "10"
