"""Teaching in front of a class: how soon a run shows its first point, what watching it learn
costs, and how far the ETA is off.

- time_to_first_point: the Train button's launch (core.runs.jobs.launch_training: forked from
  the page's warm launcher, or a fresh `python -m core train` without one) to the first curve
  point in metrics.jsonl, digits, default CNN and conv AE; baseline: the CLI's own start-up (a
  fresh interpreter importing the training runner, which a fresh process pays before its first
  batch).
- probe_overhead: the seconds the probe set's answers and codes take after each epoch, against
  the epoch's own training seconds (ratio = share of epoch time; goal <= 5%).
- eta_error: |ETA - actual time left| / actual time left at 25, 50 and 75% of a run, from the
  status the run writes; baseline: the former ETA (average pace since start) on the same samples.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

from core.runs import warm
from core.runs.jobs import launch_training, pid_alive
from core.runs.metrics import RecordType
from core.runs.store import open_store
from core.settings import Settings
from core.training.config import TrainConfig, run_config
from core.training.runner import train_run
from tests.bench.common import Figure, env_vars, tmp_dir
from tests.e2e import server as srv

MODELS = ("default_cnn", "conv_ae")


def _first_point_s(settings: Settings, model: str) -> float:
    run = open_store(settings).create(TrainConfig(dataset="digits", model=model, epochs=2,
                                                  device="cpu"))
    started = time.perf_counter()
    pid = launch_training(run, settings)
    metrics = run.path / "metrics.jsonl"
    try:
        while not (metrics.exists() and metrics.stat().st_size > 0):
            if not pid_alive(pid):
                raise RuntimeError((run.path / "log.txt").read_text())
            time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        run.request_stop()
        deadline = time.monotonic() + 120
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)


def _cli_start_s() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import core.training.runner"], cwd=srv.REPO, check=True)
    return time.perf_counter() - started


def time_to_first_point(repeats: int = 1) -> list[Figure]:
    """Fresh interpreters first (no launcher), then as the Train page does it: its warm launcher
    (core.runs.warm) started when the page is drawn, ready before the click."""
    base = Figure("time_to_first_point", "cli start-up (imports)")
    cold = [Figure("time_to_first_point", f"click to first point, fresh process, {m}",
                   baseline=base.name) for m in MODELS]
    figures = [Figure("time_to_first_point", f"click to first point, {m}", goal=5.0,
                      baseline=base.name) for m in MODELS]
    with tmp_dir("first-point") as ws, env_vars(DASH_WORKSPACE=str(ws)):
        settings = Settings.from_env()
        for phase in (cold, figures):
            if phase is figures:
                warm.start()
                if not warm.ready(timeout=300):
                    raise RuntimeError("the warm launcher did not start")
            try:
                for _ in range(repeats):
                    base.values.append(_cli_start_s())
                    for fig, model in zip(phase, MODELS):
                        fig.values.append(_first_point_s(settings, model))
            finally:
                warm.stop()
    return [base, *cold, *figures]


def probe_overhead(repeats: int = 1) -> list[Figure]:
    epoch = Figure("probe_overhead", "epoch training", unit="s")
    probe = Figure("probe_overhead", "probe answers + codes", unit="s", baseline=epoch.name,
                   ratio_goal=0.05)
    with tmp_dir("probes") as ws, env_vars(DASH_WORKSPACE=str(ws)):
        store = open_store(Settings.from_env())
        for _ in range(repeats):
            run = store.create(TrainConfig(dataset="digits", model="default_cnn", epochs=2,
                                           device="cpu"))
            train_run(run, run_config(run))
            for record in run.metrics():
                if record["type"] == RecordType.EPOCH:
                    epoch.values.append(record["seconds"])
                    probe.values.append(record["probe_seconds"])
    return [epoch, probe]


def eta_error(repeats: int = 1) -> list[Figure]:
    marks = (0.25, 0.5, 0.75)
    new = [Figure("eta_error", f"ETA error at {m:.0%}", unit="share") for m in marks]
    old = [Figure("eta_error", f"average-pace ETA error at {m:.0%}", unit="share") for m in marks]
    for n, o in zip(new, old):
        n.baseline = o.name
    with tmp_dir("eta") as ws, env_vars(DASH_WORKSPACE=str(ws)):
        settings = Settings.from_env()
        for _ in range(repeats):
            run = open_store(settings).create(TrainConfig(dataset="digits", model="default_cnn",
                                                          epochs=4, device="cpu"))
            pid, samples = launch_training(run, settings), []
            while pid_alive(pid):
                try:
                    status = json.loads((run.path / "status.json").read_text())
                except (OSError, ValueError):
                    continue
                p = status.get("progress") or {}
                if p.get("eta_s") is not None and p.get("step"):
                    at = time.time()  # the ETA as the page shows it: less the status's age
                    shown = p["eta_s"] - (at - p.get("written", at))
                    samples.append((at, p["fraction"], shown, p["elapsed_s"] + at - p.get("written", at)))
                time.sleep(0.2)
            finished = json.loads((run.path / "status.json").read_text())["finished"]
            for mark, n, o in zip(marks, new, old):
                at, fraction, eta, elapsed = next(s for s in samples if s[1] >= mark)
                left = finished - at
                n.values.append(abs(eta - left) / left)
                o.values.append(abs(elapsed / fraction * (1 - fraction) - left) / left)
    return [*new, *old]


def _cli_s(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "core", *args], cwd=srv.REPO, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def first_umap_fresh_clone(repeats: int = 1) -> list[Figure]:
    """A fresh workspace: set-up's warm-up, then the first UMAP (a new process, codes computed),
    against a warm UMAP (same process kind, numba cache and codes already there)."""
    warm = Figure("first_umap_fresh_clone", "warm UMAP (new parameters)")
    setup = Figure("first_umap_fresh_clone", "set-up: warm-up (numba compile)")
    first = Figure("first_umap_fresh_clone", "first UMAP after set-up", baseline=warm.name,
                   ratio_goal=2.0)
    for i in range(repeats):
        with tmp_dir("fresh-clone") as ws, env_vars(DASH_WORKSPACE=str(ws)):
            setup.values.append(_cli_s("warm-up"))
            first.values.append(_cli_s("embed", "digits-classifier", "--method", "umap"))
            warm.values.append(_cli_s("embed", "digits-classifier", "--method", "umap", "--params",
                                      json.dumps({"n_neighbors": 16 + i})))
    return [warm, setup, first]
