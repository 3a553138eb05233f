"""Bounded reads: only regular files are opened, only so many bytes are read, JSON only so deep.

A FIFO where a file is expected blocks a plain open() until a writer comes (forever), and a link
to /dev/zero never ends; both are refused here before anything is read. The open itself is
non-blocking (O_NONBLOCK), so even a FIFO is opened at once, then fstat tells what it is.
"""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from core.errors import UserError

MAX_JSON_DEPTH = 64  # nesting of lists and objects; configs and manifests use 3 or 4
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def _shown(path: Path, name: str | None) -> str:
    return name or os.fsdecode(Path(path).name).encode("utf-8", "backslashreplace").decode()


def open_regular(path: Path | str, max_bytes: int | None = None, name: str | None = None):
    """A binary file object for `path`, only if it is a regular file (a link to one is fine) of
    at most max_bytes; a UserError in one line naming it (as `name`, default its base name)
    otherwise. It never blocks: FIFOs, devices, sockets and folders are refused unread."""
    shown = _shown(path, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UserError(f"{shown} is missing") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise UserError(f"{shown} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"{shown} cannot be read: it is {_kind(info.st_mode)}, not a regular "
                            "file")
        if max_bytes is not None and info.st_size > max_bytes:
            raise UserError(f"{shown} is larger than {max_bytes:,} bytes ({info.st_size:,})")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _kind(mode: int) -> str:
    for test, what in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return what
    return "not a file"


def read_regular(path: Path | str, max_bytes: int, name: str | None = None) -> bytes:
    """The bytes of a regular file of at most max_bytes (checked again while reading: a file
    that grows after the check is cut off and refused)."""
    with open_regular(path, max_bytes, name) as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UserError(f"{_shown(path, name)} is larger than {max_bytes:,} bytes")
    return data


def json_depth(text: str | bytes) -> int:
    """How deeply lists and objects nest in JSON text (brackets inside strings do not count);
    linear time and no recursion, so it can run before json.loads on anything."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    depth = deepest = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def check_depth(text: str | bytes, what: str = "the JSON", max_depth: int = MAX_JSON_DEPTH) -> None:
    depth = json_depth(text)
    if depth > max_depth:
        raise UserError(f"{what} nests {depth:,} levels deep; the limit is {max_depth}")


def loads(text: str | bytes, what: str = "the JSON", max_depth: int = MAX_JSON_DEPTH,
          finite: bool = False) -> Any:
    """json.loads with a nesting limit; every failure a UserError naming `what`. finite=True
    (values a user typed) also refuses NaN, Infinity and numbers that overflow a float (1e309);
    files the app wrote itself may hold NaN (a diverged run's loss) and read as before."""
    check_depth(text, what, max_depth)
    extra = {"parse_constant": _refuse_constant, "parse_float": _finite_float} if finite else {}
    try:
        return json.loads(text, **extra)
    except (ValueError, UnicodeDecodeError, RecursionError, TypeError) as exc:
        raise UserError(f"{what} is not valid JSON ({' '.join(str(exc).split())[:80]})") from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]} is too large for a number")
    return value


def load_json_file(path: Path | str, max_bytes: int, name: str | None = None) -> Any:
    """The JSON value in a regular file of at most max_bytes, depth-limited (see loads)."""
    data = read_regular(path, max_bytes, name)
    return loads(data, _shown(path, name))


