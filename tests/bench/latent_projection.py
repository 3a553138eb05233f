"""latent_projection: PCA of 10,000 codes (goal <= 50 ms) and UMAP of the same codes, first
(with umap's import and JIT) and from the run's cache, through core.latent.projection."""
from __future__ import annotations

import numpy as np

from tests.bench.common import Figure, timed, tmp_dir


def latent_projection(repeats: int) -> list[Figure]:
    from core.latent.features import Features
    from core.latent.projection import _project
    from core.models import Kind

    rng = np.random.default_rng(0)
    codes = (rng.normal(size=(10_000, 128)) + rng.integers(0, 10, (10_000, 1))).astype(np.float32)
    pca = Figure("latent_projection", "PCA, 10,000 x 128 codes", goal=0.05,
                 baseline="baseline: copy the codes")
    copy = Figure("latent_projection", "baseline: copy the codes")
    for _ in range(repeats):
        pca.values.append(timed(_project, codes, "pca", {}, 0)[0])
        copy.values.append(timed(np.array, codes, copy=True)[0])
    figures = [pca, copy]
    # UMAP: the first call pays umap's import and numba's compilation; later ones use the cache
    # that core.latent.projection writes in the run folder.
    from core.runs.store import RunStore
    from core.settings import Settings
    from core.training.config import TrainConfig

    with tmp_dir("umap") as ws:
        settings = Settings(workspace=ws, data_roots=(ws,))
        store = RunStore(settings.runs_dir)
        run = store.create(TrainConfig())
        run.checkpoint("best").write_bytes(b"stand-in: the key needs a file")
        import core.latent.projection as latent

        features = Features(codes, None, Kind.AUTOENCODER, "code")
        first = Figure("latent_projection", "UMAP, 10,000 codes, first", [
            timed(latent.projection, run, settings, "umap", {}, features)[0]])
        cached = Figure("latent_projection", "UMAP, 10,000 codes, cached")
        for _ in range(repeats):
            seconds, (_, _, hit) = timed(latent.projection, run, settings, "umap", {}, features)
            assert hit
            cached.values.append(seconds)
        figures += [first, cached]
    return figures
