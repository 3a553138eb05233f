"""digits_load and idx_60k: load_dataset first (empty workspace) and cached, against baselines.

Imports are warmed first; each repeat runs the baselines and the measured loads back to back,
so machine noise hits both alike.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.bench.common import Figure, timed, tmp_dir, write_mnist_60k


def _warm_imports() -> None:
    import sklearn.datasets  # noqa: F401
    import torch  # noqa: F401
    import torchvision.datasets  # noqa: F401

    import core.data.dataset  # noqa: F401


def _first_then_cached(spec: str, data_root: Path | None = None) -> tuple[float, float]:
    """In a fresh workspace: seconds of the load that reads the source, then of the cached one."""
    from core.data.dataset import load_dataset
    from core.settings import Settings

    with tmp_dir("ws") as ws:
        settings = Settings(workspace=ws, data_roots=(data_root or ws,))
        first, ds = timed(load_dataset, spec, settings)
        assert not ds.from_cache, "the first load in an empty workspace came from the cache"
        cached, ds = timed(load_dataset, spec, settings)
        assert ds.from_cache, "the second load did not use the workspace cache"
    return first, cached


def digits_load(repeats: int) -> list[Figure]:
    """load_dataset("digits") first and cached vs sklearn.datasets.load_digits()."""
    from sklearn.datasets import load_digits

    _warm_imports()
    base = Figure("digits_load", "baseline: sklearn load_digits()")
    first = Figure("digits_load", "load_dataset first (empty ws)", goal=0.3, baseline=base.name)
    cached = Figure("digits_load", "load_dataset cached", goal=0.3, baseline=base.name)
    for _ in range(repeats):
        base.values.append(timed(load_digits)[0])
        for fig, seconds in zip((first, cached), _first_then_cached("digits")):
            fig.values.append(seconds)
    return [first, cached, base]


def idx_60k(repeats: int) -> list[Figure]:
    """mnist 60k+10k IDX first and cached vs torchvision MNIST(...) and np.load of the array."""
    from torchvision.datasets import MNIST

    _warm_imports()
    with tmp_dir("idx") as root:
        write_mnist_60k(root)
        npy_file = root / "train_images.npy"
        np.save(npy_file, MNIST(str(root), train=True).data.numpy())
        tv = Figure("idx_60k", "baseline: torchvision MNIST train+test")
        npy = Figure("idx_60k", f"baseline: np.load {npy_file.stat().st_size / 1e6:.0f} MB .npy")
        first = Figure("idx_60k", "load_dataset first (empty ws)", baseline=tv.name)
        cached = Figure("idx_60k", "load_dataset cached", goal=1.0, baseline=npy.name)
        for _ in range(repeats):
            tv.values.append(timed(lambda: (MNIST(str(root), train=True),
                                            MNIST(str(root), train=False)))[0])
            npy.values.append(timed(np.load, npy_file)[0])
            for fig, seconds in zip((first, cached), _first_then_cached(f"mnist?root={root}", root)):
                fig.values.append(seconds)
    return [first, cached, tv, npy]
