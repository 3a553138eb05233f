"""More hostile CLI input, each answered by one clear line (exit 2) instead of a traceback, 16 lines
of usage or a silent failure: odd file names, impossible output paths, damaged checkpoints, flags
that are not numbers or not finite. The real CLI runs in a subprocess where the terminal matters."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.cli import main
from core.runs.store import open_store
from core.training.config import TrainConfig
from tests.hostile import REPO, assert_one_line

TINY = dict(dataset="digits", model="mlp", model_params={"hidden": [16]}, epochs=1,
            batch_size=64, lr=1e-2, schedule="none", log_every=5)


def run_cli(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    """The real CLI; bytes in and out, so non-UTF-8 names travel as they would in a shell."""
    argv = [a if isinstance(a, bytes) else str(a) for a in args]
    return subprocess.run([sys.executable, "-m", "core", *argv], cwd=REPO, capture_output=True,
                          timeout=timeout, env={**os.environ, "PYTHONIOENCODING": "utf-8"})


def one_error_line(out: subprocess.CompletedProcess, *needles: str) -> str:
    err = out.stderr.decode("utf-8")
    assert out.returncode == 2, (out.returncode, err[-2000:])
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert_one_line(lines[0], *needles)
    assert "\x1b" not in err
    return lines[0]


def _runs(settings) -> list[Path]:
    return sorted(settings.runs_dir.iterdir()) if settings.runs_dir.is_dir() else []


# -- odd file names ----------------------------------------------------------------------------
ODD = [b"\xff\xfe-latin1.png", b"line\nbreak.png", b"\x1b[31mred\x1b[0m.png", b"plain.png"]


@pytest.fixture
def odd_folder(data_root) -> Path:
    folder = data_root / "odd"
    folder.mkdir()
    pixels = np.zeros((8, 8), np.uint8)
    pixels[2:6, 3:5] = 200
    for name in ODD:
        Image.fromarray(pixels).save(os.fsdecode(os.fsencode(folder) + b"/" + name), format="PNG")
    return folder


def test_odd_file_names_print_escaped_and_export_faithfully(settings, odd_folder, tmp_path) -> None:
    out = run_cli("predict", "digits-classifier", odd_folder)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    text = out.stdout.decode("utf-8")
    assert "\x1b" not in text and "\\x1b[31mred\\x1b[0m.png" in text
    assert "line\\nbreak.png" in text and "\\xff\\xfe-latin1.png" in text
    assert len(text.strip().splitlines()) == 1 + len(ODD) + 1  # header, one row each, summary
    out = run_cli("predict", "digits-classifier", odd_folder, "--csv", tmp_path / "out.csv")
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as f:
        names = sorted(row["file"] for row in csv.DictReader(f))
    # CSV and JSON keep a valid name exactly (newline and escape included: CSV quotes it) and a
    # name that was not UTF-8 with each such byte as a \xNN escape
    expected = sorted(["\\xff\\xfe-latin1.png", "line\nbreak.png", "\x1b[31mred\x1b[0m.png", "plain.png"])
    assert names == expected
    out = run_cli("predict", "digits-classifier", odd_folder, "--json")
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    assert sorted(r["file"] for r in json.loads(out.stdout)["rows"]) == expected


def test_left_out_odd_names_are_escaped_on_stderr(settings, odd_folder) -> None:
    (odd_folder / os.fsdecode(b"bad\x1b]0;title\x07\xff.png")).write_bytes(b"not a png")
    out = run_cli("predict", "digits-classifier", odd_folder)
    assert out.returncode == 0
    err = out.stderr.decode("utf-8")
    assert "\x1b" not in err and "\x07" not in err
    assert "left out bad\\x1b]0;title\\x07\\xff.png" in err


# -- impossible paths and damaged files ---------------------------------------------------------
def test_export_where_no_folder_can_be_made_is_one_line(settings, tmp_path) -> None:
    (tmp_path / "file.txt").write_text("x")
    one_error_line(run_cli("export", "digits-classifier", tmp_path / "file.txt" / "bundle"),
                   "is a file, not a folder")
    one_error_line(run_cli("export", "digits-classifier", "/proc/self/bundle"), "not writable")
    one_error_line(run_cli("export", "digits-classifier", "/proc/nosuch/deeper/bundle"), "not writable")


def test_ship_of_an_unknown_name_is_one_line(settings, tmp_path) -> None:
    line = one_error_line(run_cli("ship", "nosuch", "--out", tmp_path / "w"), "no shipped run named nosuch")
    assert "digits-classifier" in line
    one_error_line(run_cli("ship", "--verify", "--out", tmp_path / "none"), "has no manifest.json")
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("content, problem", [
    ([1, 2, 3], "it holds a list, not a dict"),
    ({"model": {}}, "it has no config, in_shape, classes"),
    ({"model": {}, "config": {"epochs": "x"}, "in_shape": [1, 8, 8], "classes": ["a", "b"]},
     "epochs must be a int"),
    ({"model": {}, "config": {}, "in_shape": [1, -8, 8], "classes": ["a", "b"]}, "in_shape"),
    ({"model": [], "config": {}, "in_shape": [1, 8, 8], "classes": ["a", "b"]}, "not dicts"),
], ids=["list", "no-config", "bad-config", "bad-shape", "weights-list"])
def test_a_checkpoint_of_the_wrong_shape_is_one_line(settings, capsys, content, problem) -> None:
    run = open_store(settings).create(TrainConfig(**TINY))
    torch.save(content, run.checkpoint("best"))
    assert main(["evaluate", run.id]) == 2
    assert_one_line(capsys.readouterr().err, "error: ", problem)


# -- flags: one line, range-checked --------------------------------------------------------------
USAGE = [
    (["train", "--epochs", "1e3"], "argument --epochs: invalid int value: '1e3'"),
    (["train", "--batch-size", "1e9"], "invalid int value: '1e9'"),
    (["train", "--lr", "fast"], "invalid float value"),
    (["train", "--optimizer", "nosuch"], "invalid choice"),
    (["predict", "digits-classifier", "x", "--batch-size", "1e9"], "must be a whole number from 1"),
    (["predict", "digits-classifier", "x", "--batch-size", "1000000000"], "must be from 1 to 65,536"),
    (["evaluate"], "the following arguments are required: run"),
    (["nosuch"], "invalid choice: 'nosuch'"),
    (["disputable", "r", "--tol", "x"], "invalid float value"),
    (["train", "--epochs", "\x1b[31m5"], "invalid int value"),
    ([], "the following arguments are required: command"),
]


@pytest.mark.parametrize("args, problem", USAGE, ids=[" ".join(a)[:40] for a, _ in USAGE])
def test_usage_errors_are_one_line_for_every_subcommand(settings, capsys, args, problem) -> None:
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and "usage:" not in err
    assert_one_line(err, problem)
    assert "\x1b" not in err
    assert _runs(settings) == []


def test_help_still_prints_the_usage(capsys) -> None:
    assert main(["train", "--help"]) == 0
    assert "usage:" in capsys.readouterr().out


def test_a_negative_infinite_threshold_is_read_as_a_value_and_refused(settings) -> None:
    one_error_line(run_cli("predict", "digits-classifier", "x", "--threshold", "-inf"),
                   "finite number")


NOT_FINITE = [
    (["--weight-decay", "inf"], "weight decay must be from 0 to 10, not inf"),
    (["--weight-decay", "nan"], "weight decay must be from 0 to 10, not nan"),
    (["--weight-decay", "-1"], "weight decay must be from 0 to 10"),
    (["--momentum", "1e308"], "momentum must be from 0 to 1, not 1e+308"),
    (["--momentum", "nan"], "momentum must be from 0 to 1"),
    (["--lr", "nan"], "learning rate must be in (0, 10]"),
    (["--lr", "inf"], "learning rate must be in (0, 10]"),
    (["--loss-param", "beta=1e309"], "numbers must be finite"),
    (["--loss-param", "beta=NaN"], "numbers must be finite"),
    (["--loss-param", "beta=-Infinity"], "numbers must be finite"),
    (["--param", "dropout=Infinity"], "numbers must be finite"),
    (["--param", "hidden=[16, 1e999]"], "numbers must be finite"),
    (["--denoise", "gaussian:nan"], "denoise must look like"),
    (["--denoise", "gaussian:inf"], "denoise must look like"),
]


@pytest.mark.parametrize("args, problem", NOT_FINITE, ids=[" ".join(a) for a, _ in NOT_FINITE])
def test_non_finite_settings_are_refused_before_a_run_folder(settings, capsys, args, problem) -> None:
    assert main(["train", "--epochs", "1", *args]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_line(err, "error: ", problem)
    assert _runs(settings) == []


@pytest.mark.parametrize("params, problem", [
    ('{"perplexity": NaN}', "NaN is not a number JSON allows"),
    ('{"perplexity": 1e999}', "too large for a number"),
    ("[" * 50_000 + "]" * 50_000, "nests 50,000 levels deep; the limit is 64"),
], ids=["nan", "overflow", "deep"])
def test_embed_params_are_finite_and_shallow(settings, capsys, params, problem) -> None:
    assert main(["embed", "digits-conv-ae", "--method", "tsne", "--params", params]) == 2
    assert_one_line(capsys.readouterr().err, "error: --params", problem)


def test_a_config_file_with_non_finite_parameters_is_refused(settings, capsys, tmp_path) -> None:
    (tmp_path / "c.json").write_text('{"loss_params": {"beta": NaN}, "momentum": 1e308}')
    assert main(["train", "--config", str(tmp_path / "c.json")]) == 2
    err = capsys.readouterr().err
    assert_one_line(err, "momentum must be from 0 to 1", "loss_params must hold finite numbers")
    assert _runs(settings) == []


def test_a_run_whose_loss_becomes_non_finite_fails_with_one_line(settings) -> None:
    # finite, accepted, and still too large: beta * KL overflows float32 at the first step
    out = subprocess.run([sys.executable, "-m", "core", "train", "--model", "vae", "--param",
                          "channels=[4]", "--loss-param", "beta=1e300", "--schedule", "none",
                          "--epochs", "2", "--threads", "1"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 3, (out.stdout[-1000:], out.stderr[-1000:])
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "diverged" in errors[0] and "NaN or infinite" in errors[0]

