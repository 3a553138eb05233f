"""What the CLI writes: strict JSON, and a stdout that outlives its reader.

`--json` output must parse in any language, so NaN and infinities become null; and
`python -m core train | head -1` must stop the output when `head` leaves, not the training.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os

import numpy as np


def finite(value):
    """value with every NaN or infinity (nested in dicts and lists) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, np.generic):
        return finite(value.item())
    return value


def printable(text: str) -> str:
    """text safe to print on a terminal in one line: control characters (newlines, ANSI escapes)
    and bytes that were not UTF-8 (surrogate escapes, from file names) shown as backslash escapes,
    the rest as it is."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(c: str) -> str:
    if 0xDC80 <= ord(c) <= 0xDCFF:  # a byte that was not UTF-8, as os.fsdecode keeps it
        return f"\\x{ord(c) - 0xDC00:02x}"
    return c.encode("unicode_escape").decode("ascii")


def faithful(text: str) -> str:
    """A file name for JSON and CSV: encodable as UTF-8 whatever its bytes were. Each byte that was
    not UTF-8 becomes a backslash escape (\\xff), so no two names collapse into one; a valid name
    (newlines and escapes included, which JSON and CSV quote) is kept exactly."""
    text = str(text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def dumps(value, **kwargs) -> str:
    """Strict JSON: a reader in any language can parse it."""
    return json.dumps(finite(value), allow_nan=False, **kwargs)


class OutputThatOutlivesItsReader:
    """stdout until its reader goes away (`| head -1`), then nowhere, so the work goes on."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._divert()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._divert()

    def _divert(self) -> None:
        try:  # the interpreter's last flush of the real stdout then goes nowhere too
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass
        self._stream = open(os.devnull, "w")

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class GeneratedHelp(argparse.HelpFormatter):
    """Help text that may be a function, called only when help is shown: lists made from the
    registries (scores, strategies) stay current without importing them on every command."""

    def _format_action(self, action):
        if callable(action.help):
            action = copy.copy(action)
            action.help = action.help()
        return super()._format_action(action)
