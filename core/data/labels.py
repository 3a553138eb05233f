"""Decisions about single images -- keep, relabel, exclude -- in a CSV that a spec names.

The file lives in `<workspace>/decisions/` and a dataset spec names it (`digits?labels=fixes.csv`),
so a run records it with its dataset and the CLI honours it. The original data is never touched:
`load_dataset` applies the decisions to the arrays in memory after the splits are assigned, so
every image keeps its split and the test images keep their order. An image is named by its
`index`: its row in the dataset the spec without `labels` loads (the numbering `python -m core
audit` and `disputable` print).

    index,action,label,reason,date
    17,relabel,7,looks like a 7,2026-12-05
    902,exclude,,copy of a test image,2026-12-05
"""
from __future__ import annotations

import csv
import hashlib
import io
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np

from core.errors import DatasetError
from core.io.atomic import write_bytes

COLUMNS = ("index", "action", "label", "reason", "date")
MAX_BYTES = 16 << 20
MAX_TEXT = 500  # characters of a reason or a label


class Action(StrEnum):
    KEEP = "keep"
    RELABEL = "relabel"
    EXCLUDE = "exclude"


@dataclass(frozen=True)
class Decision:
    index: int
    action: Action
    label: str = ""  # the new class name, for relabel
    reason: str = ""
    date: str = ""


@dataclass(frozen=True)
class Applied:
    """What load_dataset did with a decisions file (recorded by runs, shown by the Data page)."""

    file: str
    sha256: str
    relabelled: int
    excluded: int
    origin: np.ndarray = field(repr=False)  # row of each kept image in the undecided dataset


def decisions_dir(workspace: Path) -> Path:
    return Path(workspace) / "decisions"


def read(path: Path) -> tuple[list[Decision], str]:
    """(decisions, sha256 of the bytes read) from one read of the file; DatasetError with the
    file name and line for anything malformed, duplicated or conflicting."""
    name = path.name
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise DatasetError(f"decisions file {name} does not exist in {path.parent}") from None
    except OSError as exc:
        raise DatasetError(f"cannot read decisions file {name}: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise DatasetError(f"decisions file {name} is larger than {MAX_BYTES >> 20} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetError(f"decisions file {name} is not UTF-8 text") from None
    return parse(text, name), hashlib.sha256(data).hexdigest()


def parse(text: str, name: str = "decisions") -> list[Decision]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if "file" in header:
        raise DatasetError(f"{name}: this dataset names images by index, not by file; "
                           "write an index column instead of file")
    missing = [c for c in ("index", "action") if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        raise DatasetError(f"{name}: the header must be {','.join(COLUMNS)}"
                           + (f" (missing {', '.join(missing)})" if missing else "")
                           + (f" (unknown {', '.join(unknown[:5])})" if unknown else ""))
    reader.fieldnames = header
    out: list[Decision] = []
    seen: dict[int, tuple[int, Decision]] = {}
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise DatasetError(f"{name} line {line}: more fields than the header has")
            d = _decision(row, f"{name} line {line}")
            if d.index in seen:
                first, other = seen[d.index]
                what = "is decided twice" if (other.action, other.label) == (d.action, d.label) \
                    else f"has conflicting decisions ({_say(other)} and {_say(d)})"
                raise DatasetError(f"{name}: index {d.index} {what}, lines {first} and {line}; "
                                   "keep one row per image")
            seen[d.index] = (line, d)
            out.append(d)
    except csv.Error as exc:
        raise DatasetError(f"{name}: not a readable CSV file ({exc})") from None
    return out


def _say(d: Decision) -> str:
    return f"relabel to {d.label}" if d.action == Action.RELABEL else str(d.action)


def _decision(row: dict, where: str) -> Decision:
    raw = (row.get("index") or "").strip()
    if not raw.isdigit() or len(raw) > 12:
        raise DatasetError(f"{where}: index must be a whole number >= 0, not {raw[:40]!r}")
    try:
        action = Action((row.get("action") or "").strip().lower())
    except ValueError:
        raise DatasetError(f"{where}: action must be keep, relabel or exclude, "
                           f"not {(row.get('action') or '')[:40]!r}") from None
    label = (row.get("label") or "").strip()[:MAX_TEXT]
    if action == Action.RELABEL and not label:
        raise DatasetError(f"{where}: relabel needs the new class in the label column")
    return Decision(int(raw), action, label if action == Action.RELABEL else "",
                    (row.get("reason") or "").strip()[:MAX_TEXT], (row.get("date") or "").strip()[:40])


def apply(decisions: list[Decision], labels: np.ndarray, classes: tuple[str, ...] | list[str],
          name: str = "decisions") -> tuple[np.ndarray, np.ndarray]:
    """(mask of images kept, labels after relabelling); DatasetError for an index outside the
    dataset or a class it does not have."""
    n = len(labels)
    new = labels.copy()
    keep = np.ones(n, dtype=bool)
    for d in decisions:
        if d.index >= n:
            raise DatasetError(f"{name}: index {d.index} is outside this dataset's {n:,} images "
                               "(was the file written for another dataset or class subset?)")
        if d.action == Action.RELABEL:
            if d.label not in classes:
                shown = ", ".join(list(classes)[:20])
                raise DatasetError(f"{name}: index {d.index} is relabelled to {d.label[:60]!r}, "
                                   f"which is not a class of this dataset ({shown})")
            new[d.index] = list(classes).index(d.label)
        elif d.action == Action.EXCLUDE:
            keep[d.index] = False
    return keep, new


def to_csv(decisions: list[Decision]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for d in sorted(decisions, key=lambda d: d.index):
        writer.writerow([d.index, str(d.action), d.label, d.reason, d.date])
    return out.getvalue()


def merge(old: list[Decision], new: list[Decision]) -> list[Decision]:
    """old with new's rows in place of old rows for the same image."""
    by_index = {d.index: d for d in old}
    by_index.update({d.index: d for d in new})
    return sorted(by_index.values(), key=lambda d: d.index)


def save(path: Path, decisions: list[Decision]) -> str:
    """Write the file atomically (a reader sees the old or the new file, whole); its sha256."""
    text = to_csv(decisions)
    parse(text, path.name)  # the same checks a reader makes
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, text.encode("utf-8"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def today() -> str:
    return time.strftime("%Y-%m-%d")
