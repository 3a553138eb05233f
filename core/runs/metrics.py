"""metrics.jsonl: one JSON object per line, appended by the training process.

Readers trust nothing in it: a line that is not a JSON object of a known record type, a field
that is not a number, a line longer than MAX_LINE_BYTES and the partial last line of a write in
progress are all skipped. `MetricsReader` reads only what was appended since its last call, so a
page that polls every second does not re-parse the whole file each time.
"""
from __future__ import annotations

import json
import os
import re
from enum import StrEnum
from pathlib import Path

from core.errors import UserError
from core.io.files import open_regular

MAX_LINE_BYTES = 64 * 1024  # a real record is ~200 bytes
MAX_READ_BYTES = 256 * 1024 * 1024  # past this, only the newest part of the file is read
COPY_CHUNK = 1 << 20  # what keep_until holds at a time, whatever the size of the file
_STEP = re.compile(rb'"step"\s*:\s*(-?\d+)')  # every "step" key of a line, however nested


class RecordType(StrEnum):
    STEP = "step"  # every log_every steps: step, epoch (fractional), train_loss
    EPOCH = "epoch"  # per epoch: losses, accuracy or MSE, images/s, lr, best


_TYPES = {t.value: t for t in RecordType}
_NUMBERS = frozenset((int, float, bool))  # exact types: JSON gives no subclasses


def clean_record(obj: object) -> dict | None:
    """The record with only its numeric fields, or None if it is not a metrics record at all."""
    if type(obj) is not dict:
        return None
    kind, step = obj.get("type"), obj.get("step")
    if type(kind) is not str or kind not in _TYPES or type(step) is not int or step < 0:
        return None
    record = {k: v for k, v in obj.items() if type(v) in _NUMBERS}
    record["type"] = _TYPES[kind]
    return record


def parse_line(line: bytes) -> dict | None:
    if len(line) > MAX_LINE_BYTES:
        return None
    try:
        return clean_record(json.loads(line.decode("utf-8")))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None


class MetricsReader:
    """Every record of one metrics.jsonl, kept up to date by `poll()` reading only the new bytes.

    A file that was replaced or shortened (a resumed run drops the points after its checkpoint)
    is read again from the start, and `poll()` says so. A reader is cheap: keep one per file.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.records: list[dict] = []
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file read so far
        self._offset = 0  # bytes consumed, including the partial last line
        self._partial = b""  # the last line, not yet ended by a newline
        self._skip_first = False  # the next line is the cut tail of a line that was dropped

    def poll(self) -> tuple[list[dict], bool]:
        """(records appended since the last poll, whether the records held before were dropped)."""
        try:
            with open_regular(self.path) as f:  # a FIFO here is refused, never waited on
                st = os.fstat(f.fileno())
                reset = False
                if (st.st_dev, st.st_ino) != self._identity or st.st_size < self._offset:
                    reset = self._restart((st.st_dev, st.st_ino), st.st_size)
                f.seek(self._offset)
                data = f.read(min(st.st_size - self._offset, MAX_READ_BYTES))
        except (OSError, UserError):  # no file (yet, or any more), or not a regular one
            return [], self._restart(None, 0)
        self._offset += len(data)
        new = self._parse(data)
        self.records.extend(new)
        return new, reset

    def _restart(self, identity: tuple[int, int] | None, size: int) -> bool:
        """Forget what was read; True if that was anything. A huge file is read from near its end."""
        dropped = bool(self.records) or self._offset > 0
        self.records, self._partial, self._identity = [], b"", identity
        self._offset = max(0, size - MAX_READ_BYTES)
        self._skip_first = self._offset > 0
        return dropped

    def _parse(self, data: bytes) -> list[dict]:
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        if self._skip_first and lines:
            lines, self._skip_first = lines[1:], False
        if len(self._partial) > MAX_LINE_BYTES:  # no record is this long: drop it as it grows
            self._partial, self._skip_first = b"", True
        return [r for r in map(parse_line, lines) if r is not None]


def read_records(path: Path) -> list[dict]:
    """Every record in the file (see MetricsReader for what is skipped)."""
    reader = MetricsReader(path)
    reader.poll()
    return reader.records


def keep_until(path: Path, after_step: int) -> None:
    """Rewrite metrics.jsonl without the records logged after step `after_step` (a resumed run is
    about to redo them). Streams the file through a fixed-size buffer, so a file of any size keeps
    all of its history; every other line is kept byte for byte. A partial last line (a killed
    write) is dropped unless it is a whole record, and the file ends with a newline, so the next
    append starts a line of its own. Written atomically: a failure leaves the file as it was."""
    from core.io.atomic import atomic_path

    try:
        src = open(path, "rb")
    except FileNotFoundError:
        return
    with src, atomic_path(path) as tmp, open(tmp, "wb") as dst:
        pending, dropping = b"", False
        while chunk := src.read(COPY_CHUNK):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            if dropping:  # the rest of an overlong line, up to its newline
                if not lines:
                    pending = b""
                    continue
                lines, dropping = lines[1:], False
            if len(pending) > MAX_LINE_BYTES:
                pending, dropping = b"", True
            for line in lines:
                if line.strip() and _kept(line, after_step):
                    dst.write(line + b"\n")
        if pending and not dropping and (record := parse_line(pending)) is not None \
                and record["step"] <= after_step:
            dst.write(pending + b"\n")


def _kept(line: bytes, after_step: int) -> bool:
    """False for a record logged after after_step, and for a line over MAX_LINE_BYTES (no record
    is that long, and a buffer must not be). Decided from the line's "step" keys without parsing
    it (a big file has millions of lines): a line whose every step is at most after_step stays,
    record or not; one with a later step is a record to redo, or junk that no reader uses.
    A line that spells a key with escapes is parsed, as a reader would."""
    if len(line) > MAX_LINE_BYTES:
        return False
    if b"\\u" in line:
        record = parse_line(line)
        return record is None or record["step"] <= after_step
    return all(int(n) <= after_step for n in _STEP.findall(line))
