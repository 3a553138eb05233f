"""Loaded arrays cached in the workspace, so a second load of a large set is a file read.

One folder per key: arrays as .npy (read back with a plain np.load, no decompression) plus
meta.json. Written into a temporary folder and renamed, so readers never see half a cache.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from core.io.atomic import atomic_dir, cache_not_saved, load_json_object
from core.errors import UserError

from core.io.files import open_regular
from core.settings import MAX_DATASET_BYTES


def cache_key(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def read(cache_dir: Path, key: str) -> tuple[dict[str, np.ndarray], dict] | None:
    folder = cache_dir / key
    try:  # regular files only: a FIFO or a device in the cache is never waited on
        meta = load_json_object(folder / "meta.json")
        arrays = {}
        for name in meta["arrays"]:
            with open_regular(folder / f"{name}.npy", MAX_DATASET_BYTES + (1 << 20)) as f:
                arrays[name] = np.load(f, allow_pickle=False)
    except (OSError, ValueError, KeyError, TypeError, UserError):
        return None  # missing or unreadable: the caller reloads from the source
    return arrays, meta


def write(cache_dir: Path, key: str, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Cache the arrays; on a full disk or a read-only workspace, say so (CacheNotSaved) and go on:
    the arrays are loaded already."""
    try:
        with atomic_dir(cache_dir / key) as tmp:  # another process may win the race: theirs is as good
            for name, array in arrays.items():
                np.save(tmp / f"{name}.npy", array, allow_pickle=False)
            (tmp / "meta.json").write_text(json.dumps({**meta, "arrays": list(arrays)}))
    except OSError as exc:
        cache_not_saved("the dataset's arrays", cache_dir, exc)
