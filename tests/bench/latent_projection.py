"""latent_projection: PCA of 10,000 codes (goal <= 50 ms, against copying them), and UMAP and
t-SNE of the same 10,000 x 128 codes in a fresh process including imports and JIT, numba's cache
warm (goal <= 20 s for UMAP), each against the way it was done before in the same run (umap-learn
with its defaults and pynndescent; scikit-learn's TSNE); then UMAP read back from the run cache.
"""
from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

from tests.bench.common import Figure, env_vars, timed, tmp_dir
from tests.e2e import server as srv

CODES = """import numpy as np
rng = np.random.default_rng(0)
codes = (rng.normal(size=(10_000, 128)) + rng.integers(0, 10, (10_000, 1))).astype(np.float32)
"""
NOW = {"umap": CODES + "from core.latent.methods import project\nproject(codes, 'umap', {})\n",
       "tsne": CODES + "from core.latent.methods import project\nproject(codes, 'tsne', {})\n"}
BEFORE = {"umap": CODES + "import umap\numap.UMAP(random_state=0).fit_transform(codes)\n",
          "tsne": CODES + "from sklearn.manifold import TSNE\n"
                          "TSNE(2, init='pca', random_state=0).fit_transform(codes)\n"}


def _fresh_process(code: str, numba_cache: str) -> float:
    """Wall seconds of `python -c code`, start to exit, one OpenMP thread (as the page's job)."""
    start = time.perf_counter()
    with env_vars(NUMBA_CACHE_DIR=numba_cache, OMP_NUM_THREADS="1", PYTHONPATH=str(srv.REPO)):
        subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=srv.REPO, check=True)
    return time.perf_counter() - start


def latent_projection(repeats: int) -> list[Figure]:
    from core.latent.features import Features
    from core.latent.projection import _project
    from core.models import Kind

    rng = np.random.default_rng(0)
    codes = (rng.normal(size=(10_000, 128)) + rng.integers(0, 10, (10_000, 1))).astype(np.float32)
    pca = Figure("latent_projection", "PCA, 10,000 x 128 codes", goal=0.05,
                 baseline="baseline: copy the codes")
    copy = Figure("latent_projection", "baseline: copy the codes")
    _project(codes, "pca", {}, 0)  # scikit-learn's import is not PCA's cost
    for _ in range(repeats):
        pca.values.append(timed(_project, codes, "pca", {}, 0)[0])
        copy.values.append(timed(np.array, codes, copy=True)[0])
    figures = [pca, copy]
    runs = max(1, min(repeats, 2))  # each takes a minute or more
    with tmp_dir("numba") as numba:
        _fresh_process(NOW["umap"], str(numba))  # warms numba's cache, as any earlier use would
        for method, title, goal in (("umap", "UMAP", 20.0), ("tsne", "t-SNE (openTSNE)", None)):
            before = Figure("latent_projection", f"baseline: {method} as before, fresh process")
            now = Figure("latent_projection", f"{title}, 10,000 codes, fresh process", goal=goal,
                         baseline=before.name)
            for _ in range(runs):
                now.values.append(_fresh_process(NOW[method], str(numba)))
                before.values.append(_fresh_process(BEFORE[method], str(numba)))
            figures += [now, before]
    # UMAP read back: core.latent.projection caches it in the run folder
    from core.runs.store import RunStore
    from core.settings import Settings
    from core.training.config import TrainConfig

    with tmp_dir("umap") as ws:
        settings = Settings(workspace=ws, data_roots=(ws,))
        run = RunStore(settings.runs_dir).create(TrainConfig())
        run.checkpoint("best").write_bytes(b"stand-in: the key needs a file")
        import core.latent.projection as latent

        features = Features(codes, None, Kind.AUTOENCODER, "code")
        latent.projection(run, settings, "umap", {}, features)
        cached = Figure("latent_projection", "UMAP, 10,000 codes, cached", baseline=copy.name)
        for _ in range(repeats):
            seconds, (_, _, hit) = timed(latent.projection, run, settings, "umap", {}, features)
            assert hit
            cached.values.append(seconds)
        figures.append(cached)
    return figures
