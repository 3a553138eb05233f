"""The three ways to put codes on a plane, each reporting a real progress fraction.

PCA is exact and instant. UMAP and t-SNE first reduce the codes to PCA_DIMS dimensions (the
structure they keep lives there, and every later step is cheaper), find exact nearest neighbours
with scikit-learn (pynndescent's JIT compile took ~35 s here before the first neighbour), then
optimise: UMAP for UMAP_EPOCHS epochs (reported epoch by epoch through a tqdm hook), t-SNE with
openTSNE (FFT-accelerated gradients from 10,000 points, Barnes-Hut below, its own choice: FFT
took 100 s on 1,797 digits where Barnes-Hut took 30), reported through its iteration callback.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from core.errors import UserError

Progress = Callable[[float, str], None]  # (fraction done in [0, 1], what is happening)
PCA_DIMS = 50
UMAP_EPOCHS = 200  # umap's own default above 10,000 points; 500 below it bought nothing visible
TSNE_EXAGGERATION_ITERS = 250  # openTSNE's defaults
TSNE_ITERS = 500
TSNE_REPORT_EVERY = 25  # iterations between progress reports (each one evaluates the KL error)
# Share of the fraction spent before the optimisation starts (import, PCA, neighbours, init):
# measured here on 10,000 codes, about a fifth of the wall time.
SETUP_SHARE = 0.2


class Method(StrEnum):
    PCA = "pca"
    UMAP = "umap"
    TSNE = "tsne"


@dataclass(frozen=True)
class Param:
    """One parameter of a projection method: the CLI's --params check and help, and the Latent
    page's number input, are all made from this (one set of bounds)."""

    name: str
    type: type  # int or float
    low: float
    high: float
    default: float
    help: str
    label: str  # the form's label
    step: float | None = None
    in_form: bool = True  # drawn on the Latent page (others are CLI-only, at their default there)


PARAMS: dict[Method, tuple[Param, ...]] = {
    Method.PCA: (),
    Method.UMAP: (
        Param("n_neighbors", int, 2, 200, 15, "neighbours each point keeps: local (low) or global "
              "(high) structure", "Neighbours"),
        Param("min_dist", float, 0.0, 1.0, 0.1, "how tightly points may pack", "Minimum distance",
              in_form=False),
    ),
    Method.TSNE: (
        Param("perplexity", float, 2.0, 100.0, 30.0, "about how many neighbours each point "
              "weighs", "Perplexity", step=5.0),
    ),
}


def form_defaults(method: Method | str) -> dict:
    """The parameters the Latent page draws for `method`, at their defaults."""
    return {p.name: p.type(p.default) for p in PARAMS[Method(method)] if p.in_form}


def check_params(method: Method | str, params: dict) -> dict:
    """params for `method` if every one is known and within its bounds (ints as ints); a
    UserError naming the first that is not."""
    known = {p.name: p for p in PARAMS[Method(method)]}
    if not isinstance(params, dict):
        raise UserError('params takes a JSON object, e.g. {"n_neighbors": 15}')
    out = {}
    for key, value in params.items():
        if key not in known:
            raise UserError(f"{method} takes {', '.join(known) or 'no parameters'}, not {key!r}")
        p = known[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not p.low <= value <= p.high or (p.type is int and value != int(value)):
            whole = " (a whole number)" if p.type is int else ""
            raise UserError(f"{key} must be a number from {p.low:g} to {p.high:g}{whole}, not {value!r}")
        out[key] = p.type(value)
    return out


def params_help() -> str:
    """Every method's parameters with bounds and defaults, for `python -m core embed --help`."""
    parts = []
    for method, params in PARAMS.items():
        if params:
            parts.append(f"{method}: " + ", ".join(
                f"{p.name} ({p.help}; {p.low:g}..{p.high:g}, default {p.default:g})" for p in params))
    return "; ".join(parts)


def _quiet(fraction: float, stage: str) -> None:
    """The progress callback when nobody listens."""


def numba_cache(folder: Path) -> None:
    """Keep numba's compiled functions in folder so umap's JIT is paid once per workspace, not
    per process; must run before numba is imported (a later call changes nothing)."""
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NUMBA_CACHE_DIR", str(folder))


def pca_2d(codes: np.ndarray, seed: int = 0) -> np.ndarray:
    from sklearn.decomposition import PCA

    # Eigen-decomposing the D x D covariance beats an SVD of the N x D codes when N >> D.
    solver = "covariance_eigh" if codes.shape[1] <= 1024 else "auto"
    return PCA(2, svd_solver=solver, random_state=seed).fit_transform(codes)


def reduced(codes: np.ndarray, seed: int = 0) -> np.ndarray:
    """The codes in at most PCA_DIMS dimensions (unchanged when they have fewer)."""
    codes = np.asarray(codes, dtype=np.float32)
    if codes.shape[1] <= PCA_DIMS:
        return codes
    from sklearn.decomposition import PCA

    return PCA(PCA_DIMS, svd_solver="covariance_eigh", random_state=seed).fit_transform(codes) \
        .astype(np.float32)


def nearest_neighbours(codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, distances), each (N, k), of every code's k nearest codes, itself first."""
    from sklearn.neighbors import NearestNeighbors

    distances, indices = NearestNeighbors(n_neighbors=k).fit(codes).kneighbors(codes)
    return indices, distances.astype(np.float32)


@contextmanager
def _umap_epochs_reported(progress: Progress, start: float) -> Iterator[None]:
    """umap walks its epochs through tqdm; while inside, that walk reports each epoch."""
    import umap.layouts

    original = umap.layouts.tqdm

    def reporting(iterable, **_ignored):
        total = len(iterable)
        for done, item in enumerate(iterable):
            progress(start + (1 - start) * done / total, f"optimising the layout: epoch {done} of {total}")
            yield item

    umap.layouts.tqdm = reporting
    try:
        yield
    finally:
        umap.layouts.tqdm = original


def umap_2d(codes: np.ndarray, n_neighbors: int = 15, min_dist: float = 0.1, seed: int = 0,
            progress: Progress = _quiet) -> np.ndarray:
    progress(0.0, "loading umap")
    import umap  # slow to import (numba): only here

    progress(0.05, "reducing to 50 dimensions (PCA)")
    z = reduced(codes, seed)
    k = max(2, min(int(n_neighbors), len(z) - 1))
    progress(0.08, f"finding each point's {k} nearest neighbours")
    knn = nearest_neighbours(z, k)
    progress(0.15, "building the neighbour graph")
    model = umap.UMAP(n_neighbors=k, min_dist=float(min_dist), n_epochs=UMAP_EPOCHS, init="pca",
                      random_state=seed, precomputed_knn=(*knn, None), n_jobs=1)
    with _umap_epochs_reported(progress, SETUP_SHARE), warnings.catch_warnings():
        # that the model cannot .transform() new data (no search index) is fine: it never does
        warnings.filterwarnings("ignore", category=UserWarning, module="umap")
        xy = model.fit_transform(z)
    progress(1.0, "finished")
    return xy


def tsne_2d(codes: np.ndarray, perplexity: float = 30.0, seed: int = 0,
            progress: Progress = _quiet, threads: int = 1) -> np.ndarray:
    progress(0.0, "loading openTSNE")
    from openTSNE import TSNE

    progress(0.02, "reducing to 50 dimensions (PCA)")
    z = reduced(codes, seed)
    perplexity = min(float(perplexity), (len(z) - 1) / 3)
    total = TSNE_EXAGGERATION_ITERS + TSNE_ITERS
    calls = [0]

    def each_iterations(iteration, error, embedding) -> bool:
        calls[0] += 1
        done = min(calls[0] * TSNE_REPORT_EVERY, total)
        progress(SETUP_SHARE + (1 - SETUP_SHARE) * done / total,
                 f"optimising the layout: iteration {done} of {total}")
        return False  # never stop early: a cancelled job is a killed process

    progress(0.05, "finding neighbours and their affinities")
    embedding = TSNE(perplexity=perplexity, n_iter=TSNE_ITERS,
                     early_exaggeration_iter=TSNE_EXAGGERATION_ITERS, neighbors="exact",
                     negative_gradient_method="auto", n_jobs=threads, random_state=seed,
                     callbacks=each_iterations, callbacks_every_iters=TSNE_REPORT_EVERY).fit(z)
    progress(1.0, "finished")
    return np.asarray(embedding)


def project(codes: np.ndarray, method: str, params: dict, seed: int = 0,
            progress: Progress = _quiet) -> np.ndarray:
    """(N, 2) positions of the codes by one method; params: n_neighbors/min_dist (UMAP),
    perplexity (t-SNE)."""
    if len(codes) < 5:
        raise UserError(f"{len(codes)} points are too few to project; at least 5 are needed")
    if method == Method.PCA:
        return pca_2d(codes, seed)
    if method not in PARAMS:
        raise UserError(f"unknown projection {method!r}; use one of {', '.join(Method)}")
    given = {p.name: p.type(p.default) for p in PARAMS[Method(method)]} | check_params(method, params)
    if method == Method.UMAP:
        return umap_2d(codes, given["n_neighbors"], given["min_dist"], seed, progress)
    return tsne_2d(codes, given["perplexity"], seed, progress)
