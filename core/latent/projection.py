"""2-D projections of a run's codes (PCA, UMAP, t-SNE), cached on disk per (run, method, params).

PCA is computed at once; UMAP and t-SNE are slow, so the page runs them as a background job
(`python -m core embed`, through core.runs.jobs) and reads the cache. umap is imported only
when UMAP is asked for.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import UserError
from core.latent.features import Features, extract, sample_rows
from core.latent.geometry import LatentSpace
from core.runs import jobs
from core.runs.results import cache_dir, cached_arrays, checkpoint_key
from core.runs.store import Run
from core.settings import Settings

METHODS = ("pca", "umap", "tsne")


def _project(codes: np.ndarray, method: str, params: dict, seed: int) -> np.ndarray:
    if len(codes) < 5:
        raise UserError(f"{len(codes)} points are too few to project; at least 5 are needed")
    if method == "pca":
        from sklearn.decomposition import PCA

        # Eigen-decomposing the D x D covariance beats an SVD of the N x D codes when N >> D.
        solver = "covariance_eigh" if codes.shape[1] <= 1024 else "auto"
        return PCA(2, svd_solver=solver, random_state=seed).fit_transform(codes)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(float(params.get("perplexity", 30)), (len(codes) - 1) / 3)
        return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(codes)
    if method == "umap":
        import umap  # ~16 s to import here: only on request

        neighbours = min(int(params.get("n_neighbors", 15)), len(codes) - 1)
        return umap.UMAP(n_neighbors=neighbours, min_dist=float(params.get("min_dist", 0.1)),
                         random_state=seed).fit_transform(codes)
    raise UserError(f"unknown projection {method!r}; use one of {', '.join(METHODS)}")


def _key(run: Run, method: str, params: dict, rows: np.ndarray) -> dict:
    return {"checkpoint": checkpoint_key(run), "dataset": run.config().dataset, "method": method,
            "params": params, "rows": [int(len(rows)), int(rows.sum())]}


def projection(run: Run, settings: Settings, method: str, params: dict | None = None,
               features: Features | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray, bool]:
    """(rows, xy, from_cache): 2-D positions of the (sampled) rows. Computes if not cached."""
    params = params or {}
    features = features or extract(run, settings)
    rows = sample_rows(features.n, seed=seed)

    def compute() -> dict[str, np.ndarray]:
        return {"rows": rows, "xy": _project(features.codes[rows], method, params, seed).astype(np.float32)}

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
                   env={"OMP_NUM_THREADS": "1"})


def job_status(run: Run, settings: Settings, method: str, params: dict) -> dict | None:
    """The job's status file; a "running" job whose process is gone reads as failed."""
    return jobs.job_status(job_file(run, settings, method, params))
