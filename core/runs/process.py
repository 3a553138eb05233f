"""Is a process still the one we started? The one place that answers it, for runs, jobs and
the thread budget.

A bare pid is not an identity: pids are reused, so a status file naming a pid can point at an
unrelated live process (a shell, a browser) for ever. A process is known by its pid plus its
start time (field 22 of /proc/PID/stat, in clock ticks since boot), recorded when it is spawned.
"""
from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists and is not a zombie (exited, not yet reaped).
    Says nothing about *which* process it is: see `same_process`."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError):
        return False
    fields = _stat_fields(pid)
    return fields is None or fields[0] != "Z"


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None (gone, or no /proc here)."""
    fields = _stat_fields(pid)
    try:
        return int(fields[19]) if fields else None  # field 22 of the line; fields start at 3
    except (IndexError, ValueError):
        return None


def identity(pid: int) -> dict:
    """What a status file records to find this process again: pid and start time."""
    return {"pid": pid, "pid_start": start_time(pid)}


def same_process(pid, recorded_start) -> bool:
    """True when `pid` is alive and is the process that was recorded: its start time matches.
    Without a recorded start time (an old status file) the pid alone proves nothing: False,
    unless this system has no /proc to read start times from."""
    if not pid_alive(pid):
        return False
    now = start_time(pid)
    if now is None:  # no /proc (macOS): the pid is all there is
        return not os.path.isdir("/proc")
    return isinstance(recorded_start, int) and not isinstance(recorded_start, bool) \
        and recorded_start == now


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name (state first), or None when unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()
    except (OSError, ValueError):
        return None
