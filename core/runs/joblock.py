"""One background job per key across every process, queues, and jobs nobody reads.

A job (one status file, e.g. a run's t-SNE with perplexity 30) is owned by the process holding
an exclusive `flock` on `<status>.lock`; a second process started for the same job (another
app, a second tab, a restart) finds it held and leaves at once. The kernel drops the lock when
its process ends however it ends, so the lock, not a pid that may be reused, says whether the
job lives. Jobs that must not share the cores (the projections of one run) also wait in turn
for a queue lock. The pages that show a job touch `<status>.wanted` as they poll it; a job whose
reader has gone (the page left, the run switched, the app stopped) is cancelled by itself.
"""
from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

QUEUED_ABANDON_S = 30.0  # a job still waiting its turn, unread this long, gives up
RUNNING_ABANDON_S = 300.0  # a computing one (a page polls every few seconds while it shows it)
POLL_S = 0.25


class JobAbandoned(Exception):
    """Nobody reads this job any more (or it was cancelled): stop without a result."""


def lock_path(status_path: Path) -> Path:
    return Path(status_path).with_suffix(".lock")


def wanted_path(status_path: Path) -> Path:
    return Path(status_path).with_suffix(".wanted")


def try_lock(path: Path) -> int | None:
    """An fd holding an exclusive flock on path (created if missing), or None when another
    open file holds it. The holder's pid is written in the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def release(fd: int | None) -> None:
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def holder(path: Path) -> int | None:
    """The pid holding the lock at path, or None when nobody holds it. Probing takes the lock
    for an instant: a job starting in that instant retries (claim) rather than leave."""
    if not Path(path).exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            return int(Path(path).read_text().strip() or 0) or -1
        except (OSError, ValueError):
            return -1  # held, by whom unknown
    finally:
        os.close(fd)  # closing drops a lock this probe took
    return None


def claim(status_path: Path, tries: int = 4) -> int | None:
    """For the job's own process: its lock, or None when another process runs this job."""
    for attempt in range(tries):
        fd = try_lock(lock_path(status_path))
        if fd is not None:
            return fd
        if attempt + 1 < tries:
            time.sleep(POLL_S)  # perhaps only a probe (holder) in that instant
    return None


def note_wanted(status_path: Path) -> None:
    """A page shows this job: keep it alive."""
    path = wanted_path(status_path)
    try:
        path.touch()
    except OSError:
        pass


def unread_for(status_path: Path) -> float | None:
    """Seconds since a page last asked for the job; None when no page ever did (a job started
    by hand is never abandoned)."""
    try:
        return time.time() - wanted_path(status_path).stat().st_mtime
    except OSError:
        return None


def check_wanted(status_path: Path, queued: bool) -> None:
    """Raise JobAbandoned when no page has read the job for too long."""
    unread = unread_for(status_path)
    if unread is not None and unread > (QUEUED_ABANDON_S if queued else RUNNING_ABANDON_S):
        raise JobAbandoned(f"nobody has looked at it for {unread:.0f} s")


def wait_turn(queue: Path, status_path: Path, report: Callable[[float, str], None],
              stage: str) -> int:
    """Block until this process holds the queue lock; meanwhile say so (stage) and give up
    (JobAbandoned) when nobody reads the job any more."""
    while True:
        fd = try_lock(queue)
        if fd is not None:
            return fd
        report(0.0, stage)
        check_wanted(status_path, queued=True)
        time.sleep(POLL_S)
