"""Start a run as its own OS process running the CLI, so closing the dashboard never stops it."""
from __future__ import annotations

import os
import subprocess
import sys

from core.runs import Run
from core.settings import REPO_ROOT, Settings


def train_command(run: Run, resume: bool = False) -> list[str]:
    """The exact command a user could type to do the same thing by hand."""
    return [sys.executable, "-m", "core", "train", "--run", str(run.path)] + (
        ["--resume"] if resume else [])


def launch(run: Run, settings: Settings, resume: bool = False) -> int:
    """Start training in the background; returns the pid. Output goes to the run's log.txt."""
    env = {**os.environ, "DASH_WORKSPACE": str(settings.workspace),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    if resume:
        (run.path / "stop").unlink(missing_ok=True)
    with open(run.path / "log.txt", "ab") as log:
        # A new session: the run survives the dashboard being stopped with Ctrl+C or killed.
        proc = subprocess.Popen(train_command(run, resume), cwd=REPO_ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    run.write_status(state="queued", pid=proc.pid)
    return proc.pid
