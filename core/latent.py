"""Latent codes of a run and their 2-D projections, cached on disk per (run, method, parameters).

The layer is the autoencoder/VAE code (the VAE's mean) or a classifier's penultimate layer.
PCA is computed at once; UMAP and t-SNE are slow, so the page runs them in a background process
(`python -m core embed`) and reads the cache. umap is imported only when UMAP is asked for.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.datasets import ImageDataset, load_dataset
from core.errors import UserError
from core.models import model_kind
from core.run_cache import cache_dir, cached_arrays, checkpoint_key
from core.runs import Run, pid_alive, read_json, write_json_atomic
from core.settings import REPO_ROOT, Settings

METHODS = ("pca", "umap", "tsne")
MAX_POINTS = 10_000  # projections and drawings beyond this use a stated, seeded sample
BATCH = 1024


@dataclass
class Features:
    """Codes for every image of the dataset (all splits), plus class probabilities for classifiers."""

    codes: np.ndarray  # (N, D) float32
    proba: np.ndarray | None  # (N, n_classes) for classifiers
    kind: str
    layer: str

    @property
    def n(self) -> int:
        return len(self.codes)


def extract(run: Run, settings: Settings, ds: ImageDataset | None = None) -> Features:
    import torch

    from core.losses import class_probabilities
    from core.training.checkpoint import load_model

    config = run.config()
    ds = ds or load_dataset(config.dataset, settings)
    kind = model_kind(config.model)

    def compute() -> dict[str, np.ndarray]:
        model, _ = load_model(run)
        codes, probs = [], []
        with torch.no_grad():
            for first in range(0, len(ds.images), BATCH):
                x = torch.from_numpy(ds.images[first:first + BATCH]).float() / 255.0
                codes.append(model.features(x).numpy().astype(np.float32))
                if kind == "classifier":
                    probs.append(class_probabilities(model(x)).numpy())
        out = {"codes": np.concatenate(codes)}
        if probs:
            out["proba"] = np.concatenate(probs)
        return out

    key = {"checkpoint": checkpoint_key(run), "dataset": config.dataset}
    arrays, _ = cached_arrays(run, settings, "features", key, compute)
    layer = "penultimate layer" if kind == "classifier" else ("VAE mean code" if kind == "vae"
                                                               else "autoencoder code")
    return Features(arrays["codes"], arrays.get("proba"), kind, layer)


def sample_rows(n: int, max_points: int = MAX_POINTS, seed: int = 0) -> np.ndarray:
    """All rows, or a seeded sorted sample of max_points when there are more."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))


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


# -- background jobs ------------------------------------------------------------------
def job_file(run: Run, settings: Settings, method: str, params: dict) -> Path:
    tag = "-".join(f"{k}{float(v):g}" for k, v in sorted(params.items()))
    return cache_dir(run, settings) / f"job-{method}-{tag}.json"


def start_background(run: Run, settings: Settings, method: str, params: dict) -> None:
    """Run `python -m core embed` in its own process; the page polls job_status()."""
    path = job_file(run, settings, method, params)
    status = job_status(run, settings, method, params)
    if status and status.get("state") == "running":
        return  # already on its way
    cmd = [sys.executable, "-m", "core", "embed", run.id, "--method", method,
           "--params", json.dumps(params), "--job-file", str(path)]
    # One thread: on a shared 2-core machine t-SNE ran 4-8x slower with competing thread pools.
    env = {**os.environ, "DASH_WORKSPACE": str(settings.workspace), "OMP_NUM_THREADS": "1"}
    with open(path.with_suffix(".log"), "ab") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    write_json_atomic(path, {"state": "running", "started": time.time(), "pid": proc.pid,
                             "host": socket.gethostname()})


def job_status(run: Run, settings: Settings, method: str, params: dict) -> dict | None:
    """The job's status file; a "running" job whose process is gone reads as failed."""
    status = read_json(job_file(run, settings, method, params))
    if status and status.get("state") == "running" and status.get("pid") and \
            status.get("host") == socket.gethostname() and not pid_alive(int(status["pid"])):
        status = {**status, "state": "failed", "error": "the background process died"}
    return status
