"""The one atomic writer: every file or folder the app writes appears whole or not at all.

A file is written to a temporary sibling and renamed over the target (atomic on POSIX and
Windows), so a reader sees the old or the new content, and a killed writer leaves the old file.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import UserError
from core.io.files import load_json_file

MAX_JSON_BYTES = 1 << 20  # config.json, status.json, meta.json are a few hundred bytes


class CacheNotSaved(UserWarning):
    """A result was computed and used but could not be cached (a full disk, a read-only folder):
    the work goes on, and the CLI says so in one line."""


def cache_not_saved(what: str, where: Path, exc: BaseException, notes: list[str] | None = None) -> None:
    """Say that `what` was computed but not cached: appended to notes when given, else warned."""
    import warnings

    reason = getattr(exc, "strerror", None) or " ".join(str(exc).split())
    note = f"{what} computed but not cached in {where} ({reason}); it will be computed again next time"
    if notes is not None:
        notes.append(note)
    else:
        warnings.warn(note, CacheNotSaved, stacklevel=3)


_STREAM_FOLDERS = ("/dev/fd", "/proc/self/fd")


def _open_descriptor(path: Path) -> int | None:
    """The descriptor /dev/stdout, /dev/stderr or /dev/fd/N names (this process's own streams,
    written where they already point), or None for any other path."""
    text = os.path.normpath(os.path.abspath(path))
    if text in ("/dev/stdout", "/dev/stderr"):
        return 1 if text == "/dev/stdout" else 2
    folder, _, name = text.rpartition("/")
    return int(name) if folder in _STREAM_FOLDERS and name.isdigit() else None


def write_target(path: Path) -> tuple[bool, Path]:
    """(whether to stream, the path to write) for `path`, or a UserError naming why not.

    Only a regular file (or a new name) is replaced by rename; a link is followed only when it
    leads to a file in its own folder. A character device or a FIFO (/dev/null, a pipe, a
    terminal) and this process's own streams are written in place; a folder, a socket, a block
    device, or a link leading out of its folder are refused: renaming over them would replace
    what is not ours."""
    path = Path(path)
    if _open_descriptor(path) is not None:
        return True, path
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False, path
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise UserError(f"cannot write {str(path)[:200]!r}: {getattr(exc, 'strerror', None) or exc}") from None
    if stat.S_ISLNK(info.st_mode):
        real, folder = Path(os.path.realpath(path)), Path(os.path.realpath(path.parent))
        if not real.is_relative_to(folder):
            raise UserError(f"{path} is a link to {real}, outside {folder}; it is not written "
                            "through (remove the link or give another name)")
        try:
            info = os.stat(real)
        except FileNotFoundError:
            return False, real
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
        path = real
    if stat.S_ISREG(info.st_mode):
        return False, path
    if stat.S_ISDIR(info.st_mode):
        raise UserError(f"{path} is a folder; give a file name to write to")
    if stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode):
        return True, path
    raise UserError(f"{path} is not a regular file (a socket or a block device); it is not written")


def _stream(path: Path, data: bytes) -> None:
    """data written in place to a device, a FIFO or one of this process's streams."""
    fd = _open_descriptor(path)
    owned = fd is None
    if owned:
        try:  # non-blocking open: a FIFO nobody reads fails at once instead of hanging for good
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            reason = "no process is reading it" if exc.errno == errno.ENXIO else exc.strerror or exc
            raise UserError(f"cannot write {path}: {reason}") from None
        os.set_blocking(fd, True)
    else:  # what was printed before goes first
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if owned:
            os.close(fd)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` (same suffix); it replaces `path` if the block ends
    without an exception, and is removed otherwise. `path` must be a regular file or a new name
    (see write_target): nothing else is ever renamed over."""
    streamed, path = write_target(path)
    if streamed:
        raise UserError(f"{path} is not a regular file; it is not replaced")
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        if exc.filename is None:  # a write on a file object names no file: say which one
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes) -> None:
    """data as the whole content of `path`: atomically for a file, in place for a device or FIFO."""
    streamed, target = write_target(path)
    if streamed:
        _stream(target, data)
        return
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


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
