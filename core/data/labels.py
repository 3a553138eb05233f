"""Decisions about single images -- keep, relabel, exclude -- in a CSV that a spec names.

The file lives in `<workspace>/decisions/` and a dataset spec names it (`digits?labels=fixes.csv`),
so a run records it with its dataset and the CLI honours it. The original data is never touched:
`load_dataset` applies the decisions to the arrays in memory after the splits are assigned, so
every image keeps its split and the test images keep their order. An image is named by its
`index`: its row in the dataset the spec without `labels` loads (the numbering `python -m core
audit` and `disputable` print), or, in a folder dataset, by its `file`: the path under the
dataset's folder, as the audit's `file` field shows it (`train/7/0017.png`), or the bare file
name where only one image has it. A file name survives images added to the folder; an index
does not. A row with both must have them agree.

    index,action,label,reason,date
    17,relabel,7,looks like a 7,2026-12-05
    902,exclude,,copy of a test image,2026-12-05

    file,action,label,reason,date
    train/1/0017.png,relabel,7,looks like a 7,2026-12-05
"""
from __future__ import annotations

import csv
import hashlib
import io
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

import numpy as np

from core.errors import DatasetError
from core.io.atomic import write_bytes

COLUMNS = ("index", "action", "label", "reason", "date")
FILE_COLUMNS = ("index", "file", "action", "label", "reason", "date")  # written when a row names its file
MAX_BYTES = 16 << 20
MAX_TEXT = 500  # characters of a reason or a label
MAX_PATH = 1000  # characters of a file name


class Action(StrEnum):
    KEEP = "keep"
    RELABEL = "relabel"
    EXCLUDE = "exclude"


@dataclass(frozen=True)
class Decision:
    index: int | None  # row in the dataset without decisions; None: named by file only
    action: Action
    label: str = ""  # the new class name, for relabel
    reason: str = ""
    date: str = ""
    file: str = ""  # path under a folder dataset's root ("" when named by index only)
    line: int = field(default=0, compare=False)  # line of the file it was read from


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
    missing = [c for c in ("action",) if c not in header] + (
        [] if "index" in header or "file" in header else ["index or file"])
    unknown = [c for c in header if c not in FILE_COLUMNS]
    if missing or unknown:
        raise DatasetError(f"{name}: the header must be {','.join(COLUMNS)} (or file in place of index)"
                           + (f" (missing {', '.join(missing)})" if missing else "")
                           + (f" (unknown {', '.join(unknown[:5])})" if unknown else ""))
    reader.fieldnames = header
    out: list[Decision] = []
    seen: dict[object, Decision] = {}
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise DatasetError(f"{name} line {line}: more fields than the header has")
            d = _decision(row, f"{name} line {line}", line)
            key = d.index if d.index is not None else d.file
            if key in seen:
                _twice(seen[key], d, name)
            seen[key] = d
            out.append(d)
    except csv.Error as exc:
        raise DatasetError(f"{name}: not a readable CSV file ({exc})") from None
    return out


def _say(d: Decision) -> str:
    return f"relabel to {d.label}" if d.action == Action.RELABEL else str(d.action)


def _who(d: Decision) -> str:
    return f"index {d.index}" if not d.file else f"file {d.file[:120]!r}" + (
        f" (index {d.index})" if d.index is not None else "")


def _twice(first: Decision, d: Decision, name: str) -> None:
    """The error for two rows about one image."""
    what = "is decided twice" if (first.action, first.label) == (d.action, d.label) \
        else f"has conflicting decisions ({_say(first)} and {_say(d)})"
    raise DatasetError(f"{name}: {_who(d)} {what}, lines {first.line} and {d.line}; "
                       "keep one row per image")


def _file(raw: str, where: str) -> str:
    """A file column's text as a path under the dataset's root ('/' separated, no leading ./)."""
    path = raw.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    if len(path) > MAX_PATH:
        raise DatasetError(f"{where}: the file name is longer than {MAX_PATH} characters")
    return path


def _decision(row: dict, where: str, line: int = 0) -> Decision:
    raw = (row.get("index") or "").strip()
    file = _file(row.get("file") or "", where)
    if not raw and not file:
        raise DatasetError(f"{where}: name the image by index or by file")
    if raw and (not raw.isdigit() or len(raw) > 12):
        raise DatasetError(f"{where}: index must be a whole number >= 0, not {raw[:40]!r}")
    try:
        action = Action((row.get("action") or "").strip().lower())
    except ValueError:
        raise DatasetError(f"{where}: action must be keep, relabel or exclude, "
                           f"not {(row.get('action') or '')[:40]!r}") from None
    label = (row.get("label") or "").strip()[:MAX_TEXT]
    if action == Action.RELABEL and not label:
        raise DatasetError(f"{where}: relabel needs the new class in the label column")
    return Decision(int(raw) if raw else None, action, label if action == Action.RELABEL else "",
                    (row.get("reason") or "").strip()[:MAX_TEXT], (row.get("date") or "").strip()[:40],
                    file, line)


def resolve(decisions: list[Decision], files: tuple[str, ...] | list[str] | None,
            name: str = "decisions") -> list[Decision]:
    """The decisions with every image named by its index: each file looked up in files (the
    dataset's file per row, None for an array source); DatasetError for a file the dataset does
    not have, a bare name several files share, an index and a file that disagree, or two rows
    about one image."""
    named = [d for d in decisions if d.file]
    if named and files is None:
        raise DatasetError(f"{name} line {named[0].line}: names an image by file ({named[0].file[:120]!r}), "
                           "but this dataset has no files (it is not a folder of images); name images by index")
    rows = {f: i for i, f in enumerate(files)} if named else {}
    bare: dict[str, list[int]] = {}
    if named:
        for i, f in enumerate(files):
            bare.setdefault(f.rsplit("/", 1)[-1], []).append(i)
    out: list[Decision] = []
    seen: dict[int, Decision] = {}
    for d in decisions:
        if d.file:
            found = [rows[d.file]] if d.file in rows else bare.get(d.file, []) if "/" not in d.file else []
            where = f"{name} line {d.line}"
            if not found:
                raise DatasetError(f"{where}: no image {d.file[:120]!r} in this dataset (name a file by its path "
                                   "under the dataset's folder, as the audit's file field shows it)")
            if len(found) > 1:
                raise DatasetError(f"{where}: {len(found)} images are named {d.file[:120]!r} "
                                   f"({', '.join(files[i] for i in found[:3])}, ...); give the path under the "
                                   "dataset's folder")
            if d.index is not None and d.index != found[0]:
                raise DatasetError(f"{where}: index {d.index} is not {d.file[:120]!r} (that is index "
                                   f"{found[0]}); give one of them")
            d = replace(d, index=found[0])
        if d.index in seen:
            _twice(seen[d.index], d, name)
        seen[d.index] = d
        out.append(d)
    return out


def apply(decisions: list[Decision], labels: np.ndarray, classes: tuple[str, ...] | list[str],
          name: str = "decisions", files: tuple[str, ...] | list[str] | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """(mask of images kept, labels after relabelling); DatasetError for an index outside the
    dataset, a class it does not have, or a file it cannot name (see resolve)."""
    n = len(labels)
    new = labels.copy()
    keep = np.ones(n, dtype=bool)
    for d in resolve(decisions, files, name):
        if d.index >= n:
            raise DatasetError(f"{name}: index {d.index} is outside this dataset's {n:,} images "
                               "(was the file written for another dataset or class subset?)")
        if d.action == Action.RELABEL:
            if d.label not in classes:
                shown = ", ".join(list(classes)[:20])
                raise DatasetError(f"{name}: {_who(d)} is relabelled to {d.label[:60]!r}, "
                                   f"which is not a class of this dataset ({shown})")
            new[d.index] = list(classes).index(d.label)
        elif d.action == Action.EXCLUDE:
            keep[d.index] = False
    return keep, new


def for_rows(rows, action: Action, label: str = "", reason: str = "", origin=None, files=None,
             date: str | None = None) -> list[Decision]:
    """One decision per row of a loaded dataset (a batch, e.g. a selection on the latent map),
    naming each image as a decisions file does: its row in the dataset without decisions
    (origin: `ds.decisions.origin` where the dataset has a decisions file) and, in a folder
    dataset, its file."""
    day = today() if date is None else date
    label = label if action == Action.RELABEL else ""
    return [Decision(int(origin[r]) if origin is not None else int(r), action, label, reason[:MAX_TEXT], day,
                     files[r] if files is not None else "") for r in np.asarray(rows, dtype=np.int64).tolist()]


def _order(d: Decision) -> tuple:
    return (d.index is None, d.index or 0, d.file)


def to_csv(decisions: list[Decision]) -> str:
    """The file's text: a file column only when some decision names its file."""
    with_files = any(d.file for d in decisions)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FILE_COLUMNS if with_files else COLUMNS)
    for d in sorted(decisions, key=_order):
        name = [d.file] if with_files else []
        writer.writerow(["" if d.index is None else d.index, *name, str(d.action), d.label, d.reason, d.date])
    return out.getvalue()


def merge(old: list[Decision], new: list[Decision]) -> list[Decision]:
    """old with new's rows in place of old rows for the same image (same index or same file)."""
    latest = {(d.index if d.index is not None else d.file): d for d in new}
    indices = {d.index for d in latest.values() if d.index is not None}
    files = {d.file for d in latest.values() if d.file}
    kept = [d for d in old if d.index not in indices and not (d.file and d.file in files)]
    return sorted(kept + list(latest.values()), key=_order)


def save(path: Path, decisions: list[Decision]) -> str:
    """Write the file atomically (a reader sees the old or the new file, whole); its sha256."""
    text = to_csv(decisions)
    parse(text, path.name)  # the same checks a reader makes
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, text.encode("utf-8"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def today() -> str:
    return time.strftime("%Y-%m-%d")
