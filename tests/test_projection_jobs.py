"""Projection jobs across processes: one per run+method+params, one run's projections in turn,
a queued one cancelled when its page moves on, and one nobody reads cancelling itself."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from core.io.atomic import read_json, write_json
from core.latent import projection as proj
from core.runs import joblock, jobs
from core.runs.store import open_store
from tests.polling import wait_for

RUN = "digits-classifier"


@pytest.fixture
def run(settings):
    return open_store(settings).get(RUN)


def _queued(run, settings) -> dict:
    return wait_for(lambda: (s := proj.job_status(run, settings, "pca", {}) or {}).get(
        "stage", "").startswith("queued") and s, timeout=180)


def test_a_second_process_for_the_same_job_leaves_it_alone(run, settings) -> None:
    job = proj.job_file(run, settings, "pca", {})
    job.parent.mkdir(parents=True, exist_ok=True)
    write_json(job, {"state": "running", "pid": os.getpid(), "started": time.time() - 1})
    owner = joblock.claim(job)  # this test process is the job's owner
    try:
        done = subprocess.run([*jobs.core_command("embed", RUN, "--method", "pca"), "--job-file",
                               str(job)], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "DASH_WORKSPACE": str(settings.workspace)})
        assert done.returncode == 0 and "not computed" in done.stdout, done.stderr
        assert read_json(job)["pid"] == os.getpid()  # the owner's file untouched
        assert proj.job_status(run, settings, "pca", {})["state"] == "running"
    finally:
        joblock.release(owner)
    # the lock is free and was taken after the job started: its owner is gone, though the pid
    # in the file (this very process) is alive
    assert proj.job_status(run, settings, "pca", {})["state"] == "failed"


def test_one_run_projects_in_turn_and_a_queued_one_is_cancelled(run, settings) -> None:
    queue = joblock.try_lock(proj.queue_lock(run, settings))  # another projection of the run
    try:
        proj.start_background(run, settings, "pca", {})
        status = _queued(run, settings)
        assert status["state"] == "running" and status["fraction"] == 0.0
        assert proj.cached_projection(run, settings, "pca", {}) is None  # nothing computed
        assert proj.cancel_if_queued(proj.job_file(run, settings, "pca", {}))
        assert not jobs.pid_alive(status["pid"])
        assert proj.job_status(run, settings, "pca", {})["state"] == "cancelled"
        proj.start_background(run, settings, "pca", {})  # asked again: waits again
        _queued(run, settings)
    finally:
        joblock.release(queue)
    # its turn: computed and cached
    wait_for(lambda: proj.job_status(run, settings, "pca", {})["state"] == "done", timeout=180)
    assert proj.cached_projection(run, settings, "pca", {}) is not None


def test_a_queued_job_nobody_reads_cancels_itself(run, settings) -> None:
    queue = joblock.try_lock(proj.queue_lock(run, settings))
    try:
        proj.start_background(run, settings, "pca", {})
        pid = _queued(run, settings)["pid"]
        job = proj.job_file(run, settings, "pca", {})
        past = time.time() - joblock.QUEUED_ABANDON_S - 5
        os.utime(joblock.wanted_path(job), (past, past))  # the page was left
        wait_for(lambda: (read_json(job) or {}).get("state") == "cancelled", timeout=60)
        wait_for(lambda: not jobs.pid_alive(pid), timeout=60)
        assert "nobody has looked at it" in read_json(job)["error"]
    finally:
        joblock.release(queue)
