"""The lock that lets one process at a time train a run folder.

An exclusive `flock` on `<run>/train.lock`, which also holds the holder's pid and host for the
message the loser gets. The kernel drops the lock when its process ends, however it ends
(kill -9 included), so a lock left by a dead process is simply taken over; the file stays.
"""
from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

from core.errors import UserError

LOCK_NAME = "train.lock"


class RunBusy(UserError):
    """Another process is training this run."""


class RunLock:
    """Held for the whole of one training process; `with RunLock(folder):` or acquire/release."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise RunBusy naming the process that holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunBusy(f"run {self.path.parent.name} is already being trained by "
                          f"{holder_text(self.path)}; stop it first") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # before the unlock: a later holder writes its own pid
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def holder(folder: Path) -> int | None:
    """The pid training the run in `folder` (any host), or None when nobody holds its lock."""
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the reader
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _pid_in(path) or -1  # held, but its pid is not written yet
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def holder_text(path: Path) -> str:
    pid = _pid_in(path)
    return f"process {pid}" if pid else "another process"


def _pid_in(path: Path) -> int | None:
    try:
        first = path.read_text(errors="replace")[:200].split()
        return int(first[0]) if first and first[0].isdigit() else None
    except (OSError, ValueError):
        return None
