"""umap's numba functions compiled once per workspace, ahead of the first UMAP a user asks for.

Importing umap the first time compiles its numba functions (about 90 s on two busy cores), and
numba keeps them in the workspace's cache, or in NUMBA_CACHE_DIR when set (numba_dir below). `python -m core
warm-up` (run by `./run.sh app` after an install) does it during set-up; otherwise the first
UMAP job does it under the same lock and says so in its progress. A marker records the umap and
numba versions it was compiled for.
"""
from __future__ import annotations

import argparse
import os
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from core.io.atomic import read_json, write_json
from core.settings import Settings

MARKER = "warm.json"
STAGE = "compiling umap's numba functions (once per workspace; a minute or two on 2 cores)"


def numba_dir(settings: Settings) -> Path:
    """Where numba keeps umap's compiled functions: numba's own NUMBA_CACHE_DIR when one is set
    (one cache for several workspaces), else in the workspace, shared by every run."""
    given = os.environ.get("NUMBA_CACHE_DIR", "").strip()
    return Path(given) if given else settings.cache_dir / "numba"


def warm_lock(settings: Settings) -> Path:
    """Held while umap's numba functions are compiled into the workspace cache."""
    return numba_dir(settings) / "warm.lock"


def _versions() -> dict[str, str]:
    out = {}
    for name in ("umap-learn", "numba", "pynndescent"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "?"
    return out


def is_warm(folder: Path) -> bool:
    """Whether folder (a numba cache) holds umap's functions for the installed versions."""
    marker = read_json(Path(folder) / MARKER) or {}
    return marker.get("versions") == _versions()


def warm(folder: Path) -> float:
    """Compile umap's functions into folder (NUMBA_CACHE_DIR must point there before numba is
    imported: core.latent.methods.numba_cache); returns the seconds it took."""
    started = time.perf_counter()
    import umap  # the import compiles most of it

    codes = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)
    umap.UMAP(n_neighbors=10, n_epochs=20, random_state=0, n_jobs=1).fit_transform(codes)
    seconds = time.perf_counter() - started
    write_json(Path(folder) / MARKER, {"versions": _versions(), "seconds": round(seconds, 1),
                                       "when": time.time()})
    return seconds


def _cmd_warm_up(args) -> int:
    from core.latent.methods import numba_cache
    from core.runs import joblock

    settings = Settings.from_env()
    folder = numba_dir(settings)
    numba_cache(folder)
    fd = joblock.try_lock(warm_lock(settings))
    while fd is None:  # another process compiles: wait for it, then find it done
        time.sleep(joblock.POLL_S)
        fd = joblock.try_lock(warm_lock(settings))
    try:
        if is_warm(folder):
            print(f"umap is compiled already in {folder}")
            return 0
        print(STAGE, flush=True)
        print(f"done in {warm(folder):.0f} s: {folder}")
    finally:
        joblock.release(fd)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("warm-up", help="compile umap's numba functions into the workspace cache "
                                       "once, so the first UMAP starts at once")
    p.set_defaults(func=_cmd_warm_up)
