"""The run store: one folder per run, written atomically, read by pages without locks.

    config.json    the TrainConfig
    status.json    state, pid, host, heartbeat, progress, ETA, best metric (rewritten atomically)
    metrics.jsonl  one JSON object per line, appended; readers skip a partial last line
    best.pt last.pt  checkpoints (weights, optimizer, config, epoch, best metric, RNG state)
    stop           present when someone asked the run to stop
    meta.json      display name (renames never touch the run's own files)
    train.lock     held (flock) by the one process training the run; see core.runs.lock

Readers never raise on a damaged folder: a run whose config.json or status.json is unusable is
listed with state "broken" and the reason (Run.problem), and can be deleted. The store reads
config.json leniently, as a JSON object (`config_dict`), and knows nothing of training: the
settings are validated where runs are created (core.training.config), so a stricter rule added
later never turns an old run "broken". `core.training.config.run_config(run)` reads it typed.

A run is alive while a process holds its training lock, or while the process recorded in
status.json (pid *and* its start time, core.runs.process) still runs: a bare pid, reused by an
unrelated process, never keeps a run "running".
"""
from __future__ import annotations

import json
import re
import secrets
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import UserError
from core.io.atomic import load_json_object, read_json, write_json
from core.runs import lock
from core.runs.metrics import MetricsReader, keep_until, read_records
from core.runs.process import same_process
from core.runs.status import ACTIVE, STATES, RunState, checked_status  # noqa: F401 (re-exported)

STALE_AFTER_S = 30.0  # a run on another host is presumed dead after this long without a heartbeat
QUEUED_GRACE_S = 60.0  # a queued run whose process never started becomes "interrupted" after this
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass
class Run:
    """A handle on one run folder."""

    path: Path
    read_only: bool = False  # shipped runs in weights/

    @property
    def id(self) -> str:
        return self.path.name

    # -- reading: never raises on a damaged folder, except config_dict() ---------
    def config_dict(self) -> dict:
        """config.json as written (a JSON object); typed by core.training.config.run_config."""
        try:
            return load_json_object(self.path / "config.json")
        except UserError as exc:
            raise UserError(f"run {self.id}: {exc}") from None

    def problem(self) -> str | None:
        """Why this folder cannot be used as a run (it is then listed as broken), or None."""
        return self._checked()[1]

    def status(self) -> dict:
        """status.json; a dead active run reads "interrupted", an unusable folder "broken"."""
        status, problem = self._checked()
        if problem:
            return {"state": RunState.BROKEN, "error": problem}
        if status.get("state") in ACTIVE and not self._looks_alive(status):
            status = {**status, "state": RunState.INTERRUPTED}
        return status

    def _checked(self) -> tuple[dict, str | None]:
        """(status.json, None) when config and status are usable, else ({}, the reason)."""
        try:
            self.config_dict()
            return checked_status(load_json_object(self.path / "status.json")), None
        except UserError as exc:
            return {}, str(exc).removeprefix(f"run {self.id}: ")

    def _looks_alive(self, status: dict) -> bool:
        if self.trainer_pid() is not None:
            return True
        if status.get("host") == socket.gethostname() and status.get("pid"):
            return same_process(status["pid"], status.get("pid_start"))
        age = time.time() - float(status.get("heartbeat") or 0)
        return age < (QUEUED_GRACE_S if status.get("state") == RunState.QUEUED else STALE_AFTER_S)

    def resumable(self) -> bool:
        """True when training can continue from last.pt: it exists and nobody trains the run."""
        return (not self.read_only and self.checkpoint("last").exists()
                and self.status()["state"] not in (*ACTIVE, RunState.BROKEN)
                and self.trainer_pid() is None)

    def trainer_pid(self) -> int | None:
        """The process holding the run's training lock, or None."""
        return lock.holder(self.path)

    def metrics(self) -> list[dict]:
        """Every metric record; junk lines and a partial last line (a write in progress) skipped."""
        return read_records(self.path / "metrics.jsonl")

    def metrics_reader(self) -> MetricsReader:
        """An incremental reader: keep it between reruns and `poll()` it for what is new."""
        return MetricsReader(self.path / "metrics.jsonl")

    def name(self) -> str:
        name = (read_json(self.path / "meta.json") or {}).get("name")
        return name if isinstance(name, str) and name.strip() else self.id

    def checkpoint(self, which: str = "best") -> Path:
        return self.path / f"{which}.pt"

    def stop_requested(self) -> bool:
        return (self.path / "stop").exists()

    # -- writing (the training process) -------------------------------------
    def write_status(self, **fields) -> None:
        current = read_json(self.path / "status.json") or {}
        current.update(fields, heartbeat=time.time())
        write_json(self.path / "status.json", current)

    def append_metrics(self, records: list[dict]) -> None:
        if not records:
            return
        # One write per call: a reader sees whole lines, or a partial last line it skips.
        with open(self.path / "metrics.jsonl", "a") as f:
            f.write("".join(json.dumps(r) + "\n" for r in records))

    def truncate_metrics(self, after_step: int) -> None:
        keep_until(self.path / "metrics.jsonl", after_step)  # streamed: no history is dropped

    # -- user actions ---------------------------------------------------------
    def request_stop(self) -> None:
        (self.path / "stop").touch()

    def rename(self, name: str) -> None:
        self._check_writable()
        write_json(self.path / "meta.json", {"name": name.strip()})

    def delete(self) -> None:
        self._check_writable()
        if self.status()["state"] in ACTIVE or self.trainer_pid() is not None:
            raise UserError(f"run {self.name()} is still running; stop it before deleting")
        shutil.rmtree(self.path)

    def _check_writable(self) -> None:
        if self.read_only:
            raise UserError(f"{self.name()} is a shipped run and cannot be changed")


class RunStore:
    """Runs in <workspace>/runs plus the read-only shipped runs in weights/."""

    def __init__(self, runs_dir: Path, shipped_dir: Path | None = None):
        self.runs_dir = Path(runs_dir)
        self.shipped_dir = shipped_dir

    def create(self, config) -> Run:
        """A new queued run folder for `config` (anything with to_dict(): a validated TrainConfig,
        which the caller built; the store does not judge settings)."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        while True:
            run_id = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
            try:
                (self.runs_dir / run_id).mkdir()  # exclusive: two runs never share a folder
                break
            except FileExistsError:
                continue
        run = Run(self.runs_dir / run_id)
        write_json(run.path / "config.json", config.to_dict())
        run.write_status(state=RunState.QUEUED, host=socket.gethostname(), created=time.time())
        if config.name:
            run.rename(config.name)
        return run

    def get(self, run_id: str) -> Run:
        """The run with this id, or else the one run with this display name; a UserError when
        there is none (deleted, or never existed) or the name is not unique."""
        run = self.find(run_id)
        if run is not None:
            return run
        named = [r for r in self.list() if r.name() == run_id]
        if len(named) == 1:
            return named[0]
        if named:
            raise UserError(f"{len(named)} runs are named {str(run_id)[:130]!r}; give one of their "
                            "ids: " + ", ".join(r.id for r in named))
        raise UserError(f"no run {str(run_id)[:130]!r} in {self.runs_dir}"
                        + (f" or {self.shipped_dir}" if self.shipped_dir else ""))

    def find(self, run_id: str) -> Run | None:
        """The run with this id, or None: pages watching a run drop it once it is deleted."""
        if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
            return None
        if _is_run_folder(self.runs_dir / run_id):
            return Run(self.runs_dir / run_id)
        if self.shipped_dir and _is_run_folder(Path(self.shipped_dir) / run_id):
            return Run(Path(self.shipped_dir) / run_id, read_only=True)
        return None

    def list(self) -> list[Run]:
        """Newest first; shipped runs last. Damaged runs are listed too (see Run.problem)."""
        runs = sorted((Run(p) for p in _run_folders(self.runs_dir)), key=lambda r: r.id,
                      reverse=True)
        shipped = []
        if self.shipped_dir:
            shipped = sorted((Run(p, read_only=True) for p in _run_folders(Path(self.shipped_dir))),
                             key=lambda r: r.id)
        return runs + shipped


def _is_run_folder(path: Path) -> bool:
    """A folder the store made: it holds config.json or status.json (temp folders start with .)."""
    return (not path.name.startswith(".") and path.is_dir() and not path.is_symlink()
            and ((path / "config.json").exists() or (path / "status.json").exists()))


def _run_folders(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if _is_run_folder(p)]
    except OSError:
        return []


def open_store(settings) -> RunStore:
    """The store every page and the CLI use: workspace runs plus shipped runs."""
    return RunStore(settings.runs_dir, settings.shipped_dir)
