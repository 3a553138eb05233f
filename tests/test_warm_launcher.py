"""The warm launcher (core/launcher.py, core/runs/warm.py): a run forked from it is the same
`train` command in its own session, stops on `kill PID`, resumes, and outlives the launcher;
whatever it does not fork starts as a fresh process."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.launcher import source_fingerprint
from core.runs import warm
from core.runs.jobs import core_command, launch_training
from core.runs.process import pid_alive
from core.runs.store import RunState, open_store
from core.training.config import TrainConfig
from tests.polling import wait_for

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not warm.enabled(), reason="the warm launcher runs on Linux only")
RUN = dict(dataset="digits", model="mlp", model_params={"hidden": [16]}, epochs=2, batch_size=32,
           lr=1e-2, schedule="none", log_every=1)


def epochs(run) -> list[dict]:
    return [m for m in run.metrics() if m["type"] == "epoch"]


def parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


@pytest.fixture
def launcher():
    warm.start()
    assert warm.ready(timeout=180)
    yield warm._launcher.proc.pid
    warm.stop()


def test_a_forked_run_stops_resumes_and_outlives_the_launcher(settings, launcher) -> None:
    # more epochs than it will train: it is stopped by hand twice, and must still be training
    # when the launcher goes (30 epochs ended first on a quiet machine)
    run = open_store(settings).create(TrainConfig(**{**RUN, "epochs": 3000}))
    pid = launch_training(run, settings)
    assert parent(pid) == launcher and os.getsid(pid) == pid  # forked, its own session
    wait_for(lambda: run.checkpoint("last").exists() or not pid_alive(pid))
    os.kill(pid, signal.SIGTERM)  # `kill PID`: stops after the batch, keeps its checkpoint
    wait_for(lambda: run.status()["state"] == RunState.STOPPED and not pid_alive(pid))

    again = launch_training(run, settings, resume=True)
    assert parent(again) == launcher
    for other in (core_command("embed", "some-run"), ["/bin/true"]):  # only `train` is forked
        assert warm.launch(other, dict(os.environ), run.path / "other.log") is None
    assert not (run.path / "other.log").exists()
    warm.stop()  # the app (and with it the launcher) goes away; the run goes on
    assert pid_alive(again)
    done = len(epochs(run))
    wait_for(lambda: len(epochs(run)) > done)
    run.request_stop()
    wait_for(lambda: run.status()["state"] == RunState.STOPPED and not pid_alive(again))
    trained = [m["epoch"] for m in epochs(run)]
    assert trained == list(range(1, len(trained) + 1)) and len(trained) > done
    assert run.checkpoint("best").exists()
    assert (run.path / "log.txt").read_text().count("stopped: best val_acc") == 2


def test_without_a_launcher_nothing_is_forked(tmp_path: Path) -> None:
    env = dict(os.environ)
    warm.stop()
    assert warm.launch(core_command("train", "--run", str(tmp_path)), env, tmp_path / "log") is None
    assert not (tmp_path / "log").exists()


def test_a_changed_source_file_changes_the_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    module = tmp_path / "pkg" / "a.py"
    module.write_text("x = 1\n")
    (tmp_path / "notes.txt").write_text("not code")
    before = source_fingerprint(tmp_path)
    assert before[0] == 1
    os.utime(module, ns=(before[1] + 10**9, before[1] + 10**9))
    assert source_fingerprint(tmp_path) != before
    (tmp_path / "b.py").write_text("")
    assert source_fingerprint(tmp_path)[0] == 2


def test_a_child_runs_a_fresh_interpreter_when_the_code_changed(settings) -> None:
    """The launcher's code is older than the files (each fingerprint differs here): the forked
    child execs `python -m core train` as it is now, under the same pid."""
    run = open_store(settings).create(TrainConfig(**{**RUN, "epochs": 1}))
    script = ("import itertools, sys\nfrom core import launcher\ncount = itertools.count()\n"
              "launcher.source_fingerprint = lambda root=None: (next(count), 0)\n"
              "launcher.serve(sys.stdin.buffer, sys.stdout.buffer)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    try:
        assert json.loads(proc.stdout.readline())["ready"]
        request = {"args": ["train", "--run", str(run.path)], "env": env, "cwd": str(REPO),
                   "log": str(run.path / "log.txt")}
        proc.stdin.write((json.dumps(request) + "\n").encode())
        proc.stdin.flush()
        pid = json.loads(proc.stdout.readline())["pid"]
        # the same pid becomes `python -m core train` (before the exec it runs the script above)
        wait_for(lambda: b"\0-m\0core\0train\0" in Path(f"/proc/{pid}/cmdline").read_bytes(), timeout=60)
        wait_for(lambda: run.status()["state"] == RunState.DONE)
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    wait_for(lambda: not pid_alive(pid))


def test_a_launcher_that_dies_before_it_is_ready_is_not_started_again(monkeypatch) -> None:
    warm.stop()
    monkeypatch.setattr(warm.sys, "executable", "/bin/false")  # exits at once, never ready
    try:
        warm.start()
        first = warm._launcher
        first.proc.wait(timeout=30)
        assert not warm.ready(timeout=5)
        warm.start()
        assert warm._launcher is first  # each Train page drawn would otherwise start another
        assert warm.launch(core_command("train"), dict(os.environ), Path("/nonexistent/log")) is None
    finally:
        warm.stop()
