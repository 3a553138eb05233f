"""A full disk and a read-only workspace, as real conditions in a child process, never mocks:

- full disk: RLIMIT_FSIZE (with SIGXFSZ ignored), so every write past the limit fails with EFBIG
  in the kernel, as ENOSPC would; torch's C++ writer aborted the process on it (SIGABRT);
- read-only workspace: the folders are chmod a-w and, since the tests run as root, the child
  drops CAP_DAC_OVERRIDE from its capability bounding set before exec, so the kernel refuses
  writes with EACCES exactly as it does for an ordinary user.

Each command runs through core.cli.main in one child per condition (one start-up of torch), and
says one line, or does its work and says in one line what it could not cache."""
from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import textwrap

import pytest

from core.data.dataset import load_dataset
from core.runs.lock import RunLock
from core.runs.store import open_store
from core.training.config import TrainConfig
from tests.hostile import REPO, assert_one_line, tree

PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2
TINY = dict(dataset="digits", model="mlp", model_params={"hidden": [16]}, epochs=2,
            batch_size=64, lr=1e-2, schedule="none", log_every=5, threads=1)

CHILD = textwrap.dedent("""
    import contextlib, io, json, sys
    from core.cli import main
    out = []
    for argv in json.loads(sys.argv[1]):
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(argv)
        out.append({"argv": argv, "code": code, "out": stdout.getvalue(), "err": stderr.getvalue()})
        print(json.dumps(out[-1]), flush=True)
""")


def _run_children(commands: list[list[str]], limit_bytes: int | None = None,
                  read_only: bool = False) -> list[dict]:
    def restrict() -> None:
        if limit_bytes is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
        if read_only and os.geteuid() == 0:
            libc = ctypes.CDLL(None, use_errno=True)
            for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
                if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                    os._exit(77)

    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(commands)], cwd=REPO,
                          capture_output=True, text=True, timeout=600, preexec_fn=restrict,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if done.returncode == 77:
        pytest.skip("cannot drop CAP_DAC_OVERRIDE here")
    assert done.returncode == 0, (done.returncode, done.stdout[-2000:], done.stderr[-3000:])
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == len(commands), done.stdout[-2000:]
    return results


def _error_line(result: dict) -> str:
    assert result["code"] == 2, result
    lines = result["err"].strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], result["err"]
    assert "unexpected" not in result["err"] and "Traceback" not in result["err"]
    assert_one_line(errors[0])
    return errors[0]


def test_a_full_disk_is_one_line_and_leaves_nothing_half_written(settings, tmp_path) -> None:
    load_dataset("digits", settings)  # the dataset cache is in place: the run's writes hit the limit
    run = open_store(settings).create(TrainConfig(**TINY))  # queued, as the dashboard leaves it
    config_before = (run.path / "config.json").read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    export, train = _run_children([["export", "digits-classifier", str(out / "bundle")],
                                   ["train", "--run", str(run.path)]], limit_bytes=4096)
    assert "File too large" in _error_line(export)  # EFBIG: what the kernel says past the limit
    assert tree(out) == set()  # no bundle, and no hidden partial one
    assert "File too large" in _error_line(train) and str(run.path) in train["err"]
    status = json.loads((run.path / "status.json").read_text())
    assert status["state"] == "failed" and "File too large" in status["error"]
    assert (run.path / "config.json").read_bytes() == config_before
    assert not [p for p in tree(run.path) if ".tmp" in p], tree(run.path)


def test_a_read_only_workspace_is_one_line_or_a_note_that_nothing_was_cached(settings, data_root,
                                                                            tmp_path) -> None:
    load_dataset("digits", settings)  # cached before the workspace turns read-only
    images = tmp_path / "new"
    images.mkdir()
    from PIL import Image
    Image.new("L", (8, 8), 100).save(images / "a.png")
    for cls in ("a", "b"):  # a folder dataset not cached yet
        (data_root / "shapes" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (8, 8), 40 * i + (cls == "b") * 120).save(data_root / "shapes" / cls / f"{i}.png")
    workspace = settings.workspace
    modes = {}
    for path in [workspace, *workspace.rglob("*")]:
        modes[path] = path.stat().st_mode
        path.chmod(modes[path] & ~0o222)
    try:
        results = _run_children([["describe", "digits?seed=3"],
                                 ["describe", f"folder?root={data_root / 'shapes'}"],
                                 ["train", "--epochs", "1"],
                                 ["evaluate", "digits-classifier"],
                                 ["threshold", "digits-anomaly-ae"],
                                 ["predict", "digits-classifier", str(images)]], read_only=True)
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    describe, subset, train, evaluate, threshold, predict = results
    assert describe["code"] == 0 and "dataset   digits?seed=3" in describe["out"]
    assert subset["code"] == 0 and "warning: the dataset's arrays computed but not cached" in subset["err"]
    line = _error_line(train)
    assert "Permission denied" in line and str(workspace) in line
    assert not (workspace / "runs").exists()
    for result in (evaluate, threshold):
        assert result["code"] == 0, result
        assert "computed but not cached in" in result["err"] and str(workspace) in result["err"]
        assert "unexpected" not in result["err"]
    assert "balanced_accuracy" in evaluate["out"] and "TPR" in threshold["out"]
    assert predict["code"] in (0, 2) and "unexpected" not in predict["err"], predict


def test_a_run_whose_first_status_write_fails_does_not_sit_queued(settings) -> None:
    """The run folder takes no new file (read-only), its own files can still be rewritten in
    place: the atomic status write fails at once, and the failure is still recorded."""
    run = open_store(settings).create(TrainConfig(**TINY))
    with RunLock(run.path):  # train.lock exists, as once a launcher has held it
        pass
    before = {p: p.read_bytes() for p in (run.path / "config.json", run.path / "meta.json") if p.exists()}
    mode = run.path.stat().st_mode
    run.path.chmod(mode & ~0o222)
    try:
        (train,) = _run_children([["train", "--run", str(run.path)]], read_only=True)
    finally:
        run.path.chmod(mode)
    line = _error_line(train)
    assert "Permission denied" in line and str(run.path) in line
    status = json.loads((run.path / "status.json").read_text())
    assert status["state"] == "failed" and "Permission denied" in status["error"]
    assert run.status()["state"] == "failed"
    assert {p: p.read_bytes() for p in before} == before
    assert sorted(tree(run.path)) == ["config.json", "status.json", "train.lock"]
