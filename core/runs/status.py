"""A run's state and the checks status.json must pass before anything reads it."""
from __future__ import annotations

from enum import StrEnum

from core.errors import UserError


class RunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    STOPPED = "stopped"
    FAILED = "failed"
    DIVERGED = "diverged"
    INTERRUPTED = "interrupted"  # its process is gone without saying how it ended
    BROKEN = "broken"  # config.json or status.json is unusable: it can only be deleted


class JobState(StrEnum):
    """A background job's state (a projection, ...): its status file says one of these."""
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


STATES = tuple(RunState)
ACTIVE = (RunState.QUEUED, RunState.RUNNING)
# status.json fields a reader relies on: the types they must have when present, and their name
STATUS_FIELDS = {"state": ((str,), "text"), "pid": ((int,), "an integer"),
                 "pid_start": ((int,), "an integer"),
                 "host": ((str,), "text"), "heartbeat": ((int, float), "a number"),
                 "started": ((int, float), "a number"), "finished": ((int, float), "a number"),
                 "progress": ((dict,), "an object"), "best_metric": ((int, float), "a number"),
                 "best_epoch": ((int,), "an integer"), "monitor": ((str,), "text"),
                 "error": ((str,), "text"), "n_parameters": ((int,), "an integer"),
                 "warnings": ((list,), "a list")}


def checked_status(status: dict) -> dict:
    """status.json if every field a reader relies on has the right type; UserError otherwise."""
    for name, (types, described) in STATUS_FIELDS.items():
        value = status.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, types)):
            raise UserError(f"status.json has a {name} that is not {described}: "
                            f"{str(value)[:40]!r}")
    if status.get("state") not in STATES:
        raise UserError(f"status.json has an unknown state {str(status.get('state'))[:40]!r}")
    if status.get("pid") is not None and status["pid"] <= 0:
        raise UserError(f"status.json has a pid that is not a positive integer: {status['pid']}")
    progress = status.get("progress") or {}
    if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
               for v in progress.values()):
        raise UserError("status.json has a progress field that is not a number")
    if not all(isinstance(w, str) for w in status.get("warnings") or []):
        raise UserError("status.json has a warning that is not text")
    return status
