"""The run store: one folder per run, written atomically, read by pages without locks.

    config.json    the TrainConfig
    status.json    state, pid, host, heartbeat, progress, ETA, best metric (rewritten atomically)
    metrics.jsonl  one JSON object per line, appended; readers skip a partial last line
    best.pt last.pt  checkpoints (weights, optimizer, config, epoch, best metric, RNG state)
    stop           present when someone asked the run to stop
    meta.json      display name (renames never touch the run's own files)
"""
from __future__ import annotations

import json
import secrets
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import UserError
from core.runs.atomic import read_json, write_json, write_text
from core.runs.jobs import pid_alive
from core.training.config import TrainConfig

STATES = ("queued", "running", "done", "stopped", "failed", "diverged", "interrupted")
ACTIVE = ("queued", "running")
STALE_AFTER_S = 30.0  # a run on another host is presumed dead after this long without a heartbeat
QUEUED_GRACE_S = 60.0  # a queued run whose process never started becomes "interrupted" after this


@dataclass
class Run:
    """A handle on one run folder."""

    path: Path
    read_only: bool = False  # shipped runs in weights/

    @property
    def id(self) -> str:
        return self.path.name

    # -- reading -----------------------------------------------------------
    def config(self) -> TrainConfig:
        data = read_json(self.path / "config.json")
        if data is None:
            raise UserError(f"run {self.id} has no readable config.json")
        return TrainConfig.from_dict(data)

    def status(self) -> dict:
        """status.json, with a dead "running" run reported as "interrupted"."""
        status = read_json(self.path / "status.json") or {"state": "failed",
                                                          "error": "status.json is missing"}
        if not isinstance(status, dict):
            return {"state": "failed", "error": "status.json is not a JSON object"}
        if status.get("state") in ACTIVE and not self._looks_alive(status):
            status = {**status, "state": "interrupted"}
        return status

    def _looks_alive(self, status: dict) -> bool:
        pid = status.get("pid")
        if status.get("host") == socket.gethostname() and pid:
            return isinstance(pid, int) and pid_alive(pid)  # a junk pid names no process
        heartbeat = status.get("heartbeat")
        if not isinstance(heartbeat, (int, float)):
            return False
        age = time.time() - float(heartbeat)
        return age < (QUEUED_GRACE_S if status.get("state") == "queued" else STALE_AFTER_S)

    def metrics(self) -> list[dict]:
        """Every metric record; a partial last line (a write in progress) is skipped."""
        try:
            text = (self.path / "metrics.jsonl").read_text()
        except OSError:
            return []
        out = []
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):  # a line that is not an object is junk, not a record
                out.append(record)
        return out

    def name(self) -> str:
        meta = read_json(self.path / "meta.json")
        name = meta.get("name") if isinstance(meta, dict) else None
        return name if isinstance(name, str) and name else self.id

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
        kept = [r for r in self.metrics() if r.get("step", 0) <= after_step]
        write_text(self.path / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in kept))

    # -- user actions ---------------------------------------------------------
    def request_stop(self) -> None:
        (self.path / "stop").touch()

    def rename(self, name: str) -> None:
        self._check_writable()
        write_json(self.path / "meta.json", {"name": name.strip()})

    def delete(self) -> None:
        self._check_writable()
        if self.status().get("state") in ACTIVE:
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

    def create(self, config: TrainConfig) -> Run:
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
        run.write_status(state="queued", host=socket.gethostname(), created=time.time())
        if config.name:
            run.rename(config.name)
        return run

    def get(self, run_id: str) -> Run:
        """The run with this id, or else the one run with this display name."""
        runs = self.list()
        for run in runs:
            if run.id == run_id:
                return run
        named = [run for run in runs if run.name() == run_id]
        if len(named) == 1:
            return named[0]
        if named:
            raise UserError(f"{len(named)} runs are named {run_id!r}; give one of their ids: "
                            + ", ".join(run.id for run in named))
        raise UserError(f"no run {run_id!r} in {self.runs_dir}"
                        + (f" or {self.shipped_dir}" if self.shipped_dir else ""))

    def list(self) -> list[Run]:
        """Newest first; shipped runs last."""
        runs = []
        if self.runs_dir.is_dir():
            runs = sorted((Run(p) for p in self.runs_dir.iterdir()
                           if p.is_dir() and (p / "config.json").exists()),
                          key=lambda r: r.id, reverse=True)
        shipped = []
        if self.shipped_dir and self.shipped_dir.is_dir():
            shipped = sorted((Run(p, read_only=True) for p in self.shipped_dir.iterdir()
                              if p.is_dir() and (p / "config.json").exists()), key=lambda r: r.id)
        return runs + shipped


def open_store(settings) -> RunStore:
    """The store every page and the CLI use: workspace runs plus shipped runs."""
    return RunStore(settings.runs_dir, settings.shipped_dir)
