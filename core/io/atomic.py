"""The one atomic writer: every file or folder the app writes appears whole or not at all.

A file is written to a temporary sibling and renamed over the target (atomic on POSIX and
Windows), so a reader sees the old or the new content, and a killed writer leaves the old file.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import UserError
from core.io.files import load_json_file

MAX_JSON_BYTES = 1 << 20  # config.json, status.json, meta.json are a few hundred bytes


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` (same suffix); it replaces `path` if the block ends
    without an exception, and is removed otherwise."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: Path, data: dict) -> None:
    write_text(path, json.dumps(data, indent=1, default=str))


def load_json_object(path: Path, max_bytes: int = MAX_JSON_BYTES) -> dict:
    """The JSON object in `path`; a UserError naming the file and what is wrong with it otherwise.
    Only a regular file is opened (a FIFO or /dev/zero in its place is refused, never waited on)
    and its JSON may nest only so deep (core.io.files)."""
    path = Path(path)
    data = load_json_file(path, max_bytes)
    if not isinstance(data, dict):
        raise UserError(f"{path.name} holds a JSON {type(data).__name__}, not an object")
    return data


def read_json(path: Path) -> dict | None:
    """The JSON object in `path`, or None when it is missing, unreadable or not an object."""
    try:
        return load_json_object(path)
    except UserError:
        return None


@contextmanager
def atomic_dir(dest: Path) -> Iterator[Path]:
    """Yield a temporary folder beside `dest` to fill; it is renamed to `dest` on success.

    If `dest` appeared meanwhile (another process wrote the same thing), theirs is kept: the
    content is keyed by what it holds, so both are equally good.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name[:60]}-", dir=dest.parent))
    try:
        yield tmp
        try:
            os.rename(tmp, dest)
        except OSError:
            if not dest.exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
