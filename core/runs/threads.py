"""The thread budget: this machine's cores shared among the jobs the app runs.

Each active job (a training run, a projection) has a file `<workspace>/jobs/threads/<pid>.json`
(pid, host, kind, started), written when it is spawned and removed when it ends; files of dead
processes are ignored and cleared by the next reader. A job's share is the cores split evenly
among the live jobs of this host, the earliest getting the remainder, never below one thread.
Training processes re-read their share while they run (`ThreadShare`) and call
torch.set_num_threads, so the total follows jobs as they start and end. Other jobs get their
share in OMP_NUM_THREADS / NUMBA_NUM_THREADS when spawned, except projections, which ask for one
thread (core.latent.projection: t-SNE ran 4-8x slower with competing pools on 2 cores) and still
count as a job, so training beside them gets fewer threads.
"""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from core.io.atomic import read_json, write_json
from core.runs.process import identity, same_process

REFRESH_EVERY_S = 1.0
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def machine_cores() -> int:
    """Cores the jobs may share: DASH_JOB_CORES if set, else the CPUs this process may run on
    (a container's or taskset's limit, not the host's count)."""
    given = os.environ.get("DASH_JOB_CORES", "").strip()
    if given.isdigit() and 0 < int(given) <= 4096:
        return int(given)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class ThreadBudget:
    """The job files of one workspace, and each job's share of `cores`."""

    def __init__(self, folder: Path, cores: int | None = None):
        self.folder = Path(folder)
        self.cores = max(1, cores or machine_cores())

    @classmethod
    def for_workspace(cls, workspace: Path, cores: int | None = None) -> ThreadBudget:
        return cls(Path(workspace) / "jobs" / "threads", cores)

    def register(self, pid: int, kind: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{pid}.json"
        if read_json(path) is None:  # the spawner may have registered this pid already
            write_json(path, {**identity(pid), "host": socket.gethostname(), "kind": kind,
                              "started": time.time()})

    def unregister(self, pid: int) -> None:
        (self.folder / f"{pid}.json").unlink(missing_ok=True)

    def active(self) -> list[dict]:
        """This host's live jobs, oldest first; files of processes that are gone are removed."""
        host, jobs = socket.gethostname(), []
        try:
            paths = list(self.folder.glob("*.json"))
        except OSError:
            return []
        for path in paths:
            job = read_json(path)
            pid = job.get("pid") if job else None
            if not isinstance(pid, int) or isinstance(pid, bool) or f"{pid}.json" != path.name:
                continue
            if job.get("host") != host:
                continue
            if not same_process(pid, job.get("pid_start")):  # gone, or its pid reused
                path.unlink(missing_ok=True)
                continue
            started = job.get("started")
            jobs.append({**job, "started": started if isinstance(started, (int, float)) else 0.0})
        return sorted(jobs, key=lambda j: (j["started"], j["pid"]))

    def share(self, pid: int) -> int:
        """Threads for job `pid`: its part of the cores among the live jobs (>= 1)."""
        pids = [j["pid"] for j in self.active()]
        if pid not in pids:
            pids.append(pid)
        return split(self.cores, len(pids))[pids.index(pid)]

    def share_for_new_job(self) -> int:
        """Threads a job about to start would get (it starts last, so gets no remainder)."""
        return split(self.cores, len(self.active()) + 1)[-1]

    def env_for_new_job(self) -> dict[str, str]:
        """Thread-count variables for a process that cannot change its count once started."""
        n = str(self.share_for_new_job())
        return {name: n for name in THREAD_ENV}


def split(cores: int, jobs: int) -> list[int]:
    """cores split over jobs as evenly as whole threads allow, earliest first; >= 1 each."""
    base, extra = divmod(cores, max(1, jobs))
    return [max(1, base + (i < extra)) for i in range(max(1, jobs))]


class ThreadShare:
    """Keeps this process's torch thread count at its share of a budget while it runs."""

    def __init__(self, budget: ThreadBudget, kind: str = "train",
                 every_s: float = REFRESH_EVERY_S):
        self.budget, self.kind, self.every_s = budget, kind, every_s
        self.pid = os.getpid()
        self.threads = 0
        self._last = 0.0

    def __enter__(self) -> ThreadShare:
        self.budget.register(self.pid, self.kind)
        self.refresh(force=True)
        return self

    def __exit__(self, *exc) -> None:
        self.budget.unregister(self.pid)

    def refresh(self, force: bool = False) -> int:
        """Re-read the share (at most every `every_s` unless forced) and apply it; the count."""
        now = time.monotonic()
        if force or now - self._last >= self.every_s:
            self._last = now
            threads = self.budget.share(self.pid)
            if threads != self.threads:
                import torch

                torch.set_num_threads(threads)
                self.threads = threads
        return self.threads
