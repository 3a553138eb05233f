"""Every detached `python -m core ...` process the app starts: the command, the spawn, liveness.

Training runs and background projections both run as their own OS process running the same CLI
a user would type, in a new session, so closing the dashboard never stops them. A job records
its pid and host in a status file; a "running" job whose process is gone reads as dead.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import UserError
from core.io.atomic import read_json, write_json
from core.runs import joblock, warm
from core.runs.process import identity, pid_alive, same_process
from core.runs.status import JobState, RunState
from core.runs.threads import ThreadBudget
from core.settings import REPO_ROOT, Settings

if TYPE_CHECKING:
    from core.runs.store import Run


def core_command(*args: str) -> list[str]:
    """The exact command a user could type: `python -m core ARGS`."""
    return [sys.executable, "-m", "core", *args]


def spawn(command: list[str], settings: Settings, log_path: Path,
          env: dict[str, str] | None = None) -> int:
    """Start `command` detached (its own session), output appended to log_path; return the pid.

    The process is entered in the workspace's thread budget at once, and starts with its share
    of the cores in OMP_NUM_THREADS / NUMBA_NUM_THREADS (a caller's `env` wins); training
    processes then follow their share as other jobs start and end. A `train` is forked from the
    app's warm launcher when one is ready (core.runs.warm: torch already imported), the same
    command in a fresh interpreter otherwise.
    """
    budget = ThreadBudget.for_workspace(settings.workspace)
    full_env = {**os.environ, "DASH_WORKSPACE": str(settings.workspace),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                            os.environ.get("PYTHONPATH")])),
                **budget.env_for_new_job(), **(env or {})}
    pid = warm.launch(command, full_env, log_path)  # forked from the warm launcher if it can
    if pid is not None:
        budget.register(pid, _job_kind(command))
        return pid
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=full_env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    budget.register(proc.pid, _job_kind(command))
    # Reap it when it ends: an exited child nobody waits for stays a zombie of this process.
    threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()
    return proc.pid


def _job_kind(command: list[str]) -> str:
    """"train", "embed", ...: the core subcommand, for the budget's listing."""
    return command[3] if command[1:3] == ["-m", "core"] and len(command) > 3 else "job"


def process_gone(status: dict) -> bool:
    """True when status names a process on this host that is no longer the one it recorded
    (gone, or its pid now belongs to another process)."""
    pid = status.get("pid")
    if status.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    return not same_process(pid, status.get("pid_start"))


# -- training runs ---------------------------------------------------------------------------
def train_command(run: Run, resume: bool = False) -> list[str]:
    return core_command("train", "--run", str(run.path), *(["--resume"] if resume else []))


def launch_training(run: Run, settings: Settings, resume: bool = False) -> int:
    """Start training in the background; returns the pid. Output goes to the run's log.txt."""
    busy = run.trainer_pid()
    if busy is not None:
        raise UserError(f"run {run.name()} is already being trained (process {busy})")
    if resume and not run.resumable():
        raise UserError(f"run {run.name()} has no checkpoint to resume from")
    if resume:
        (run.path / "stop").unlink(missing_ok=True)
    pid = spawn(train_command(run, resume), settings, run.path / "log.txt")
    run.write_status(state=RunState.QUEUED, **identity(pid), host=socket.gethostname())
    return pid


# -- background jobs with a status file ------------------------------------------------------
def start_job(status_path: Path, command: list[str], settings: Settings,
              env: dict[str, str] | None = None) -> None:
    """Run command in the background unless the job is already running; it reports its end by
    rewriting status_path (the CLI's --job-file)."""
    status = job_status(status_path)
    joblock.note_wanted(status_path)  # the caller reads it: not abandoned before it starts
    if status and status.get("state") == JobState.RUNNING:
        return
    pid = spawn([*command, "--job-file", str(status_path)], settings,
                status_path.with_suffix(".log"), env)
    write_json(status_path, {"state": JobState.RUNNING, "started": time.time(), **identity(pid),
                             "host": socket.gethostname()})


def job_status(status_path: Path, reader: bool = False) -> dict | None:
    """The job's status file; a "running" job whose process is gone reads as failed. Alive is
    its lock held (core.runs.joblock), or, before the job took it, its process running. A page
    that shows the job passes reader=True, which keeps the job from being abandoned."""
    if reader:
        joblock.note_wanted(status_path)
    status = read_json(status_path)
    if status and status.get("state") == JobState.RUNNING and not _alive(status_path, status):
        status = {**status, "state": JobState.FAILED, "error": "the background process died"}
    return status


def _alive(status_path: Path, status: dict) -> bool:
    lock = joblock.lock_path(status_path)
    if joblock.holder(lock) is not None:
        return True
    try:  # taken since this job started, and released: its process is over
        if lock.stat().st_mtime >= float(status.get("started", 0)):
            return False
    except (OSError, TypeError, ValueError):
        pass
    return not process_gone(status)


# -- progress and cancelling -------------------------------------------------------------------
# A running job whose stage starts with this still waits its turn (it is queued, like a run).
QUEUED_STAGE = str(RunState.QUEUED)
JOB_DONE, JOB_FAILED, JOB_CANCELLED, JOB_RUNNING = (JobState.DONE, JobState.FAILED, JobState.CANCELLED,
                                                   JobState.RUNNING)


def progress_reporter(status_path: Path, every_s: float = 0.5):
    """A progress(fraction, stage) callable for the job itself: it rewrites its status file with
    the fraction done (0..1) and what it is doing, at most every `every_s` seconds (and always
    at 0 and 1), and only while the file says "running" (never over a cancel)."""
    last = [0.0]

    def report(fraction: float, stage: str) -> None:
        now = time.monotonic()
        if now - last[0] < every_s and 0.0 < fraction < 1.0:
            return
        last[0] = now
        status = read_json(status_path) or {}
        if status.get("state") != JOB_RUNNING:
            return
        joblock.check_wanted(status_path, queued=stage.startswith(QUEUED_STAGE))
        write_json(status_path, {**status, "fraction": round(min(max(float(fraction), 0.0), 1.0), 4),
                                 "stage": stage, "updated": time.time()})

    return report


def cancel_job(status_path: Path, wait_s: float = 5.0) -> bool:
    """Stop a running job's process group (SIGTERM, then SIGKILL after wait_s) and mark the job
    "cancelled"; True if it was running here."""
    import signal

    status = read_json(status_path)
    if not status or status.get("state") != JOB_RUNNING:
        return False
    owner = joblock.holder(joblock.lock_path(status_path))  # the process that runs it
    pid = owner if owner and owner > 0 else status.get("pid")
    if status.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    # never signal a stranger that got the pid: only the process that was recorded
    for sig in (signal.SIGTERM, signal.SIGKILL) if same_process(pid, status.get("pid_start")) else ():
        try:
            os.killpg(pid, sig)  # the job leads its own session (spawn), so its group is its pid
        except (ProcessLookupError, PermissionError):
            break
        deadline = time.monotonic() + wait_s
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not pid_alive(pid):
            break
    write_json(status_path, {**status, "state": JOB_CANCELLED, "finished": time.time()})
    return True
