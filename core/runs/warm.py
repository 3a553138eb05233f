"""The app's side of the warm launcher (core/launcher.py): a process that imported torch and the
training code once and forks each new `train` from itself, so a run's first point comes seconds
sooner than from a fresh interpreter.

The app starts it (`start`, once per app process, when the Train page is drawn), and so does a
sweep worker for its trials (`serving`); `launch`
asks it for a run and returns the child's pid, or None whenever it is not ready, gone or slow,
and the caller then starts a fresh interpreter as before. Runs it forks are their own sessions:
they outlive the app and the launcher. The launcher reads requests on a pipe from this process
and exits when that pipe closes, so it never outlives the app. DASH_WARM_LAUNCHER=0 turns it off.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from core.settings import REPO_ROOT

WARM_COMMANDS = frozenset({"train"})  # the core subcommands it forks (torch-heavy start-ups)
REPLY_TIMEOUT_S = 5.0

_lock = threading.Lock()
_launcher: _Launcher | None = None


def enabled() -> bool:
    return sys.platform == "linux" and os.environ.get("DASH_WARM_LAUNCHER", "1") != "0"


class _Launcher:
    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                                      os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen([sys.executable, "-m", "core.launcher"], cwd=REPO_ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self.ready = threading.Event()
        self.pending = b""
        threading.Thread(target=self._wait_ready, name="warm-launcher-ready", daemon=True).start()

    def _wait_ready(self) -> None:
        if (self._read_reply(timeout=600.0) or {}).get("ready"):
            self.ready.set()

    def _read_reply(self, timeout: float) -> dict | None:
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return None
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            return None
        return reply if isinstance(reply, dict) else None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def launch(self, args: list[str], env: dict[str, str], log_path: Path) -> int | None:
        if not (self.ready.is_set() and self.alive()):
            return None
        request = {"args": args, "env": env, "cwd": str(REPO_ROOT), "log": str(log_path)}
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except (OSError, ValueError):
            return None
        pid = (self._read_reply(REPLY_TIMEOUT_S) or {}).get("pid")
        if not isinstance(pid, int) or pid <= 0:  # out of step with its replies: not trusted again
            self.close()
            return None
        return pid

    def close(self) -> None:
        try:
            self.proc.stdin.close()  # the launcher ends at the end of its input
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def start() -> bool:
    """Start this process's launcher unless it runs already (or is turned off); True when this
    call started it."""
    global _launcher
    if not enabled():
        return False
    with _lock:
        # one that died before it was ready (a failing import) would only die again: not retried
        if _launcher is None or (not _launcher.alive() and _launcher.ready.is_set()):
            _launcher = _Launcher()
            return True
        return False


@contextmanager
def serving(wait_s: float):
    """A launcher for the length of a block, waited for up to wait_s seconds (a sweep worker forks
    its trials from it: each starts in a fraction of a second instead of seconds); one this
    process had already is left running after the block."""
    started = start()
    try:
        ready(timeout=wait_s)
        yield
    finally:
        if started:
            stop()


def ready(timeout: float = 0.0) -> bool:
    """True once the launcher has finished its imports (waiting up to timeout seconds)."""
    launcher = _launcher
    return launcher is not None and launcher.ready.wait(timeout) and launcher.alive()


def launch(command: list[str], env: dict[str, str], log_path: Path) -> int | None:
    """Fork `python -m core ARGS` (command as core.runs.jobs.core_command makes it) from the
    launcher; its pid, or None when this command is not one it forks or it cannot now."""
    if command[1:3] != ["-m", "core"] or len(command) < 4 or command[3] not in WARM_COMMANDS:
        return None
    with _lock:
        return _launcher.launch(command[3:], env, log_path) if _launcher is not None else None


def stop() -> None:
    """End the launcher (runs it started go on)."""
    global _launcher
    with _lock:
        launcher, _launcher = _launcher, None
    if launcher is not None:
        launcher.close()
