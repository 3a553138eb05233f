"""Per-run cached results (predictions, scores, embeddings) keyed by what they depend on.

They live in the run folder; for read-only shipped runs, under <workspace>/cache/shipped/<id>/.
A cache entry is a .npz plus the key it was computed for; a changed checkpoint or dataset spec
changes the key, so stale results are recomputed instead of shown.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.errors import UserError
from core.io.atomic import atomic_path, cache_not_saved
from core.io.files import open_regular
from core.runs.store import Run
from core.settings import Settings


def cache_dir(run: Run, settings: Settings) -> Path:
    folder = settings.cache_dir / "shipped" / run.id if run.read_only else run.path / "cache"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def checkpoint_key(run: Run, which: str = "best") -> str:
    """Names one version of a checkpoint (size and time), so results cached for it are dropped
    when it is rewritten. A missing one (a run deleted or still at its first epoch) is the
    user's to fix, not a traceback."""
    try:
        st = run.checkpoint(which).stat()
    except OSError:
        raise UserError(f"run {run.id} has no {which} checkpoint ({run.checkpoint(which).name}); "
                        "it was deleted, or has not finished an epoch yet") from None
    return f"{which}:{st.st_size}:{st.st_mtime_ns}"


def cached_arrays(run: Run, settings: Settings, name: str, key: dict,
                  compute: Callable[[], dict[str, np.ndarray]],
                  notes: list[str] | None = None) -> tuple[dict[str, np.ndarray], bool]:
    """(arrays, from_cache). Recomputes when the stored key differs from `key`; a cache that
    cannot be written (a full disk, a read-only folder) costs the next call a recompute, never
    this call its result: that is said in `notes` when given (a page shows it), else as a
    CacheNotSaved warning."""
    try:
        folder = cache_dir(run, settings)
    except OSError as exc:
        arrays = compute()
        cache_not_saved(name, settings.cache_dir if run.read_only else run.path, exc, notes)
        return arrays, False
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = folder / f"{name}-{digest}.npz"
    if path.exists():
        try:
            with open_regular(path) as f, np.load(f, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}, True
        except (OSError, ValueError, UserError):  # UserError: not a regular file
            pass  # unreadable (a killed writer): compute again
    arrays = compute()
    try:
        with atomic_path(path) as tmp:
            np.savez(tmp, **arrays)
    except OSError as exc:
        cache_not_saved(name, folder, exc, notes)
    return arrays, False
