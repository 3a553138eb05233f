"""2-D projections of a run's codes (PCA, UMAP, t-SNE), cached on disk per (run, method, params).

PCA is computed at once; UMAP and t-SNE take seconds to minutes, so the page runs them as
background jobs (`python -m core embed`, through core.runs.jobs) that report a fraction done and
can be cancelled, and reads the cache. umap and openTSNE are imported only when asked for.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import UserError
from core.io.atomic import read_json, write_json
from core.latent.features import Features, extract, sample_rows
from core.latent.geometry import LatentSpace
from core.latent.methods import Method, Progress, check_params, numba_cache, project
from core.latent.warmup import numba_dir, warm_lock  # noqa: F401 (offered here too)
from core.runs import jobs
from core.runs.results import cache_dir, cached_arrays, checkpoint_key
from core.runs.status import JobState
from core.runs.store import Run
from core.settings import Settings
from core.training.config import run_config

METHODS = tuple(Method)
VERSION = 2  # part of the cache key: bump when a method's output changes for the same codes


def _project(codes: np.ndarray, method: str, params: dict, seed: int,
             progress: Progress | None = None) -> np.ndarray:
    """core.latent.methods.project, the one place a method is chosen."""
    return project(codes, method, params, seed, progress or (lambda fraction, stage: None))


def _key(run: Run, method: str, params: dict, rows: np.ndarray) -> dict:
    return {"checkpoint": checkpoint_key(run), "dataset": run_config(run).dataset, "method": method,
            "params": params, "version": VERSION, "rows": [int(len(rows)), int(rows.sum())]}


def projection(run: Run, settings: Settings, method: str, params: dict | None = None,
               features: Features | None = None, seed: int = 0,
               progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """(rows, xy, from_cache): 2-D positions of the (sampled) rows. Computes if not cached,
    reporting to progress(fraction, stage). An unknown method or a bad parameter is refused
    before the run's codes are computed."""
    params = params or {}
    if method not in set(Method):
        raise UserError(f"unknown projection {method!r}; use one of {', '.join(Method)}")
    check_params(method, params)
    features = features or extract(run, settings)
    rows = sample_rows(features.n, seed=seed)

    def compute() -> dict[str, np.ndarray]:
        numba_cache(numba_dir(settings))
        xy = _project(features.codes[rows], method, params, seed, progress)
        return {"rows": rows, "xy": xy.astype(np.float32)}

    arrays, hit = cached_arrays(run, settings, f"projection-{method}", _key(run, method, params, rows),
                                compute)
    return arrays["rows"], arrays["xy"], hit


def cached_projection(run: Run, settings: Settings, method: str, params: dict | None = None,
                      features: Features | None = None, seed: int = 0):
    """(rows, xy) if the projection is on disk already, else None; never computes."""
    params = params or {}
    features = features or extract(run, settings)
    rows = sample_rows(features.n, seed=seed)
    digest = hashlib.sha256(json.dumps(_key(run, method, params, rows), sort_keys=True,
                                       default=str).encode()).hexdigest()[:16]
    if not (cache_dir(run, settings) / f"projection-{method}-{digest}.npz").exists():
        return None
    return projection(run, settings, method, params, features, seed)[:2]


def projection_frame(space: LatentSpace, rows: np.ndarray, xy: np.ndarray,
                     clusters: np.ndarray | None = None) -> pd.DataFrame:
    """The CSV of a drawn projection, one row per point: id (dataset row), split, x, y, class,
    predicted (classifiers), cluster (when given: a name per row) and distance_to_centre (to the
    image's own class centre, the mean training code)."""
    names = np.asarray(space.classes, dtype=object)
    frame = pd.DataFrame({"id": rows, "split": space.split_names()[rows], "x": xy[:, 0],
                          "y": xy[:, 1], "class": names[space.labels[rows]]})
    if space.classifier:
        frame["predicted"] = names[space.predicted[rows]]
    if clusters is not None:
        frame["cluster"] = clusters
    frame["distance_to_centre"] = space.own_distance[rows]
    return frame


# -- background jobs ------------------------------------------------------------------
def job_file(run: Run, settings: Settings, method: str, params: dict) -> Path:
    tag = "-".join(f"{k}{float(v):g}" for k, v in sorted(params.items()))
    return cache_dir(run, settings) / f"job-{method}-{tag}.json"


def start_background(run: Run, settings: Settings, method: str, params: dict) -> None:
    """Run `python -m core embed` in its own process; the page polls job_status()."""
    command = jobs.core_command("embed", run.id, "--method", method, "--params", json.dumps(params))
    # One thread: on a shared 2-core machine t-SNE ran 4-8x slower with competing thread pools.
    jobs.start_job(job_file(run, settings, method, params), command, settings,
                   env={"OMP_NUM_THREADS": "1", "NUMBA_CACHE_DIR": str(numba_dir(settings))})


def job_status(run: Run, settings: Settings, method: str, params: dict,
               reader: bool = False) -> dict | None:
    """The job's status file (state, fraction, stage); a "running" job whose process is gone
    reads as failed. reader=True: a page shows it (a job nobody reads cancels itself)."""
    return jobs.job_status(job_file(run, settings, method, params), reader)


def cancel_if_queued(job: Path) -> bool:
    """Cancel a job still waiting its turn (its page moved on to another run); True if it was."""
    status = jobs.job_status(job) or {}
    if status.get("state") == JobState.RUNNING and str(status.get("stage", "")).startswith(jobs.QUEUED_STAGE):
        return jobs.cancel_job(job)
    return False


def queue_lock(run: Run, settings: Settings) -> Path:
    """Held by the projection of this run being computed: the others wait their turn, so two
    never share the cores."""
    return cache_dir(run, settings) / "projections.lock"


def projection_job(run: Run, settings: Settings, method: str, params: dict,
                   job: Path) -> tuple[np.ndarray, np.ndarray, bool, Features] | None:
    """The background job behind the Latent page: owns the job (None at once when another
    process does), waits for the run's other projections (and umap's compilation), computes
    and records done, failed or cancelled in the job file. None when it did not compute."""
    import os
    import time

    from core.runs import joblock

    owner = joblock.claim(job)
    if owner is None:
        return None
    started, held = time.time(), []
    report = jobs.progress_reporter(job)
    try:
        write_json(job, {**(read_json(job) or {}), "state": JobState.RUNNING, "pid": os.getpid(),
                         "started": started})
        if method == Method.UMAP:
            from core.latent import warmup

            held.append(joblock.wait_turn(warm_lock(settings), job, report,
                                          f"{jobs.QUEUED_STAGE}: umap's one-time compilation goes first"))
            if not warmup.is_warm(numba_dir(settings)):  # this job compiles it, and says so
                report(0.0, warmup.STAGE)
                numba_cache(numba_dir(settings))
                warmup.warm(numba_dir(settings))
            joblock.release(held.pop())
        held.append(joblock.wait_turn(queue_lock(run, settings), job, report,
                                      f"{jobs.QUEUED_STAGE}: another projection of this run goes first"))
        features = extract(run, settings)
        rows, xy, hit = projection(run, settings, method, params, features, progress=report)
        # written while the job's lock is still held: a reader never sees it dead in between
        write_json(job, {"state": JobState.DONE, "started": started, "fraction": 1.0,
                         "seconds": time.time() - started, "pid": os.getpid()})
        return rows, xy, hit, features
    except joblock.JobAbandoned as exc:
        write_json(job, {"state": JobState.CANCELLED, "started": started, "finished": time.time(),
                         "error": f"cancelled: {exc}"})
        return None
    except Exception as exc:
        write_json(job, {"state": JobState.FAILED, "error": str(exc), "started": started})
        raise
    finally:
        for fd in held:
            joblock.release(fd)
        joblock.release(owner)


def cancel_background(run: Run, settings: Settings, method: str, params: dict) -> bool:
    """Stop the job's process; True if one was running."""
    return jobs.cancel_job(job_file(run, settings, method, params))
