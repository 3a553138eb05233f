"""A run or job is alive while its training lock is held or its recorded process (pid and start
time) still runs; a status file naming the pid of an unrelated live process never keeps it
"running" (issue 22: such a run showed "running" for ever and could not be deleted)."""
from __future__ import annotations

import json
import socket
import subprocess
import time

import pytest

from core.errors import UserError
from core.io.atomic import write_json
from core.runs import jobs, process
from core.runs.lock import RunLock
from core.runs.status import JobState, RunState
from core.runs.store import RunStore
from core.training.config import TrainConfig


@pytest.fixture
def stranger():
    """An unrelated live process: a `sleep` this test started, killed at the end."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait(timeout=10)


@pytest.fixture
def run(tmp_path):
    return RunStore(tmp_path / "runs").create(TrainConfig(model="mlp", epochs=1))


def _claim(run, **fields) -> None:
    status = json.loads((run.path / "status.json").read_text())
    (run.path / "status.json").write_text(json.dumps({**status, "state": RunState.RUNNING,
                                                      "host": socket.gethostname(), **fields}))


def test_a_run_naming_an_unrelated_live_pid_is_interrupted_and_deletable(run, stranger) -> None:
    _claim(run, pid=stranger.pid)  # no start time: an old status file, or a reused pid
    assert process.pid_alive(stranger.pid)
    assert run.status()["state"] == RunState.INTERRUPTED
    _claim(run, pid=stranger.pid, pid_start=process.start_time(stranger.pid) + 1)
    assert run.status()["state"] == RunState.INTERRUPTED
    run.delete()
    assert not run.path.exists()
    assert stranger.poll() is None  # deleting the run did nothing to the stranger


def test_the_recorded_process_keeps_its_run_running(run, stranger) -> None:
    _claim(run, **process.identity(stranger.pid))  # as if `sleep` were the trainer
    assert run.status()["state"] == RunState.RUNNING
    with pytest.raises(UserError, match="still running"):
        run.delete()
    stranger.kill()
    stranger.wait(timeout=10)
    assert run.status()["state"] == RunState.INTERRUPTED


def test_the_training_lock_keeps_its_run_running_whatever_the_pid(run) -> None:
    _claim(run, pid=2 ** 22 + 12345)  # no such process
    with RunLock(run.path):
        assert run.status()["state"] == RunState.RUNNING
        with pytest.raises(UserError, match="still running"):
            run.delete()
    assert run.status()["state"] == RunState.INTERRUPTED
    run.delete()


def test_a_job_naming_an_unrelated_pid_is_failed_and_cancelling_it_kills_nobody(tmp_path, stranger) -> None:
    status_path = tmp_path / "job.json"
    write_json(status_path, {"state": JobState.RUNNING, "pid": stranger.pid, "host": socket.gethostname(),
                             "started": time.time()})
    assert jobs.job_status(status_path)["state"] == JobState.FAILED
    assert jobs.cancel_job(status_path, wait_s=0.1)
    assert json.loads(status_path.read_text())["state"] == JobState.CANCELLED
    assert stranger.poll() is None  # never signalled: it is not the job's process


def test_a_recorded_job_is_running_and_cancel_stops_it(tmp_path) -> None:
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)  # a job leads its own group
    try:
        status_path = tmp_path / "job.json"
        write_json(status_path, {"state": JobState.RUNNING, **process.identity(proc.pid),
                                 "host": socket.gethostname(), "started": time.time()})
        assert jobs.job_status(status_path)["state"] == JobState.RUNNING
        assert jobs.cancel_job(status_path, wait_s=5)
        assert proc.wait(timeout=10) != 0
    finally:
        proc.kill()
        proc.wait(timeout=10)
