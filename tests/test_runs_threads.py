"""The thread budget: spawned jobs share the cores, and a training process follows its share as
other jobs start and end (seen in the thread count each epoch record carries)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import torch

from core.runs.jobs import launch_training, spawn
from core.runs.metrics import RecordType
from core.runs.store import RunState, open_store
from core.runs.threads import ThreadBudget, ThreadShare, split
from core.training.config import TrainConfig, run_config
from core.training.runner import train_run
from tests.polling import wait_for

LONG = dict(dataset="digits", model="mlp", model_params={"hidden": [16]}, epochs=3000,
            batch_size=64, lr=1e-3, schedule="none", log_every=50)



def sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def test_cores_are_split_evenly_earliest_first_never_below_one() -> None:
    assert split(2, 1) == [2] and split(2, 2) == [1, 1] and split(5, 2) == [3, 2]
    assert split(8, 3) == [3, 3, 2] and split(2, 3) == [1, 1, 1] and split(1, 0) == [1]


def test_jobs_are_listed_while_alive_and_junk_is_ignored(tmp_path: Path) -> None:
    budget = ThreadBudget(tmp_path / "threads", cores=4)
    a, b = sleeper(), sleeper()
    try:
        budget.register(a.pid, "train")
        budget.register(b.pid, "embed")
        (tmp_path / "threads" / "junk.json").write_text("[1]")
        (tmp_path / "threads" / "123.json").write_text(json.dumps({"pid": "123"}))
        (tmp_path / "threads" / "77.json").write_text(json.dumps({"pid": 77, "host": "elsewhere"}))
        assert [j["pid"] for j in budget.active()] == [a.pid, b.pid]
        assert budget.share(a.pid) == 2 and budget.share(b.pid) == 2
        assert budget.share_for_new_job() == 1  # 4 cores over 3 jobs: 2, 1, 1
        b.kill()
        b.wait()
        assert [j["pid"] for j in budget.active()] == [a.pid]
        assert not (tmp_path / "threads" / f"{b.pid}.json").exists()  # a dead job's file goes
        assert budget.share(a.pid) == 4
        budget.unregister(a.pid)
        assert budget.active() == []
    finally:
        for p in (a, b):
            p.kill()
            p.wait()


def test_a_process_share_follows_other_jobs(tmp_path: Path) -> None:
    budget = ThreadBudget(tmp_path / "threads", cores=4)
    before = torch.get_num_threads()
    other = sleeper()
    try:
        with ThreadShare(budget, every_s=0.0) as share:
            assert share.threads == torch.get_num_threads() == 4
            assert [j["pid"] for j in budget.active()] == [os.getpid()]
            budget.register(other.pid, "train")
            assert share.refresh() == torch.get_num_threads() == 2
            other.kill()
            other.wait()
            assert share.refresh() == torch.get_num_threads() == 4
        assert budget.active() == []
    finally:
        other.kill()
        torch.set_num_threads(before)


def test_spawn_registers_the_job_and_hands_it_its_share(settings, monkeypatch) -> None:
    monkeypatch.setenv("DASH_JOB_CORES", "6")
    budget = ThreadBudget.for_workspace(settings.workspace)
    assert budget.cores == 6
    settings.workspace.mkdir(parents=True)
    log = settings.workspace / "job.log"
    script = ("import os, time; print(os.environ['OMP_NUM_THREADS'], "
              "os.environ['NUMBA_NUM_THREADS'], flush=True); time.sleep(60)")
    first = spawn([sys.executable, "-c", script], settings, log)
    second = spawn([sys.executable, "-c", script], settings, log,
                   env={"OMP_NUM_THREADS": "1"})  # a caller's own setting wins
    try:
        assert [j["pid"] for j in budget.active()] == [first, second]
        assert budget.active()[0]["host"] == socket.gethostname()
        wait_for(lambda: len(log.read_text().splitlines()) == 2)
        assert sorted(log.read_text().splitlines()) == ["1 3", "6 6"]
    finally:
        for pid in (first, second):
            os.kill(pid, signal.SIGKILL)
    wait_for(lambda: budget.active() == [])


def _threads_seen(run) -> list[int]:
    return [m["threads"] for m in run.metrics() if m["type"] == RecordType.EPOCH]


def test_a_training_process_rebalances_as_jobs_start_and_end(settings, monkeypatch) -> None:
    monkeypatch.setenv("DASH_JOB_CORES", "4")
    store = open_store(settings)
    run = store.create(TrainConfig(**LONG))
    launch_training(run, settings)
    try:
        wait_for(lambda: 4 in _threads_seen(run))  # alone: every core
        other = spawn([sys.executable, "-c", "import time; time.sleep(120)"], settings,
                      settings.workspace / "other.log")
        wait_for(lambda: _threads_seen(run)[-1] == 2)  # another job: half each
        os.kill(other, signal.SIGKILL)
        n = len(_threads_seen(run))
        wait_for(lambda: len(_threads_seen(run)) > n and _threads_seen(run)[-1] == 4)
    finally:
        run.request_stop()
        wait_for(lambda: run.status()["state"] == RunState.STOPPED)
    assert ThreadBudget.for_workspace(settings.workspace).active() == []


def test_pinned_threads_hold_and_the_caller_count_is_restored(settings, monkeypatch) -> None:
    monkeypatch.setenv("DASH_JOB_CORES", "4")
    before = torch.get_num_threads()
    budget = ThreadBudget.for_workspace(settings.workspace)
    store = open_store(settings)
    pinned = store.create(TrainConfig(**{**LONG, "epochs": 1, "threads": 3}))
    train_run(pinned, run_config(pinned), budget=budget)
    shared = store.create(TrainConfig(**{**LONG, "epochs": 1}))
    train_run(shared, run_config(shared), budget=budget)
    assert _threads_seen(pinned) == [3] and _threads_seen(shared) == [4]
    assert torch.get_num_threads() == before and budget.active() == []
