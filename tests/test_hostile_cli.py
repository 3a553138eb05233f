"""`python -m core` given hostile or careless arguments: one line on stderr, exit 2, no run
folder left behind; strict JSON; a closed stdout ends the output, not the run."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.cli import main
from core.runs.store import open_store
from core.training.config import TrainConfig
from tests import data_writers as dw
from tests.hostile import REPO, assert_one_line


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _runs(settings) -> list[Path]:
    return sorted(settings.runs_dir.iterdir()) if settings.runs_dir.is_dir() else []


BAD_TRAIN = [
    (["--seed", "-1"], "seed must be between"),
    (["--dataset", "digits?seed=-1"], "seed must be between"),
    (["--dataset", "digits?%zz"], "malformed dataset spec"),
    (["--dataset", "digits?classes=3"], "one class only"),
    (["--device", "mps"], "no Apple GPU (MPS)"),
    (["--model", "conv_ae", "--loss", "cross_entropy"], "cross_entropy"),
    (["--model", "nosuch"], "unknown model 'nosuch'"),
    (["--config", "/no/such/config.json"], "--config /no/such/config.json is missing"),
    (["--config", "/dev/zero"], "it is a device, not a regular file"),
] + ([] if torch.cuda.is_available() else [(["--device", "cuda"], "no CUDA GPU")])


@pytest.mark.parametrize("args, problem", BAD_TRAIN, ids=[" ".join(a)[:30] for a, _ in BAD_TRAIN])
def test_refused_training_is_one_line_and_leaves_no_run_folder(settings, capsys, args,
                                                               problem) -> None:
    code, out, err = _cli(capsys, "train", "--epochs", "1", *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ")
    assert_one_line(err, problem)
    assert _runs(settings) == []


@pytest.mark.parametrize("content, problem", [
    (b"not json", "not valid JSON"), (b"[1, 2]", "must be a JSON object"),
    (b'{"epochs": "many"}', "epochs must be a int"), (b"\xff\xfe", "cannot read --config"),
], ids=["text", "list", "type", "binary"])
def test_invalid_config_files_are_one_line(settings, capsys, tmp_path, content, problem) -> None:
    config = tmp_path / "config.json"
    config.write_bytes(content)
    code, _, err = _cli(capsys, "train", "--config", str(config))
    assert code == 2
    assert_one_line(err, str(config), problem)
    assert _runs(settings) == []


@pytest.mark.parametrize("command", ["evaluate", "threshold", "embed", "disputable"])
def test_a_run_without_best_pt_is_one_line(settings, capsys, command) -> None:
    run = open_store(settings).create(TrainConfig(epochs=1, name="never trained"))
    code, _, err = _cli(capsys, command, run.id)
    assert code == 2
    assert_one_line(err, "never trained", "no trained model yet (no best.pt")


@pytest.mark.parametrize("args, problem", [
    (["--params", "{bad"], "--params is not valid JSON"),
    (["--params", "[1]"], "takes a JSON object"),
    (["--method", "umap", "--params", '{"n_neighbors": -5}'], "n_neighbors must be a number"),
    (["--method", "tsne", "--params", '{"n_neighbors": 5}'], "tsne takes perplexity"),
    (["--params", '{"x": 1}'], "pca takes no parameters"),
], ids=["json", "list", "range", "wrong-key", "pca"])
def test_bad_embed_params_are_one_line(settings, capsys, args, problem) -> None:
    code, _, err = _cli(capsys, "embed", "digits-classifier", *args)
    assert code == 2
    assert_one_line(err, problem)


def test_csv_into_a_missing_folder_is_one_line(settings, capsys, tmp_path) -> None:
    target = tmp_path / "no" / "such" / "folder" / "ranking.csv"
    code, _, err = _cli(capsys, "disputable", "digits-classifier", "--csv", str(target))
    assert code == 2
    assert_one_line(err, str(target.parent), "does not exist")


def test_a_json_spec_is_accepted(settings, capsys) -> None:
    code, out, _ = _cli(capsys, "describe", '{"source": "digits", "classes": ["1", "7"]}', "--json")
    assert code == 0 and json.loads(out)["classes"] == ["1", "7"]


def test_json_output_is_strict_json(settings, capsys, data_root) -> None:
    """A class missing from the test split makes an infinite imbalance ratio: null, not Infinity."""
    dw.write_image_folder(data_root / "pets", with_train_test=True, corrupt=False,
                          stray_text=False)
    for image in (data_root / "pets" / "test" / "Positive").iterdir():
        image.unlink()
    code, out, _ = _cli(capsys, "describe", f"folder?root={data_root / 'pets'}", "--json")

    def refuse(constant: str):
        raise AssertionError(f"{constant} is not JSON")

    assert code == 0 and json.loads(out, parse_constant=refuse)["imbalance_ratio"]["test"] is None


def test_an_unexpected_error_is_one_line_with_a_pointer_to_debug(settings, capsys, monkeypatch):
    import core.data.dataset

    def broken(*args, **kwargs):
        raise KeyError("internal/state/path")

    monkeypatch.setattr(core.data.dataset, "load_dataset", broken)  # a bug, as far as main knows
    code, _, err = _cli(capsys, "describe", "digits")
    assert code == 1
    assert_one_line(err, "unexpected KeyError", "--debug")
    with pytest.raises(KeyError):
        main(["--debug", "describe", "digits"])


def test_cli_errors_reach_a_real_stderr_as_one_line(settings) -> None:
    done = subprocess.run([sys.executable, "-m", "core", "describe", "digits?%zz"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert_one_line(done.stderr, "malformed dataset spec")


def test_a_closed_stdout_does_not_kill_the_run(settings) -> None:
    """`python -m core train | head -1`: the reader leaves after one line, the run goes on."""
    command = [sys.executable, "-m", "core", "train", "--epochs", "3", "--model", "mlp",
               "--name", "piped"]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does once it has its line
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert first.startswith("run ")
    run = open_store(settings).list()[0]
    assert run.status()["state"] == "done" and run.checkpoint("best").exists()
    assert [m["epoch"] for m in run.metrics() if "val_loss" in m] == [1, 2, 3]
