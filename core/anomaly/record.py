"""The threshold record: one object for a decision threshold and where it came from, saved and
loaded by one helper and read by the Anomaly and Evaluate pages, the CLI, predict and export
(a bundle's manifest carries the same JSON).

On disk (JSON): threshold, score, normal_classes, strategy (+ params), split it was fitted on,
costs or budget when the strategy used them, the counts behind it on that split, run, saved
(UTC), by (page, cli or ship) and format_version. Records written before format_version existed
(version 1) still load and say so in one line; a newer version is refused in one line.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import numpy as np

from core.errors import UserError
from core.io.atomic import read_json, write_json

FORMAT_VERSION = 2  # 1: no counts, costs, params, by (still read)
MANUAL = "manual"
PROBABILITY = "probability"  # what a 2-class classifier's record is a threshold on


class Author(StrEnum):
    PAGE = "page"
    CLI = "cli"
    SHIP = "ship"


class Split(StrEnum):
    VAL = "val"
    TEST = "test"


@dataclass(frozen=True)
class ThresholdRecord:
    """A threshold on one score for some normal classes, and how it was set."""

    value: float
    score: str
    strategy: str  # strategy text (f1, tnr=0.95, cost=1:5 ...), or "manual" when set by hand
    split: str  # where it was fitted: "val" for a strategy, "test" for a value set by hand
    normal_classes: tuple[str, ...]
    run_id: str
    saved: str  # ISO 8601, UTC, to the second
    params: dict = field(default_factory=dict, compare=False)  # the strategy's parameters
    costs: dict | None = None  # {"false_alarm": c, "miss": c} when the strategy used them
    budget: float | None = None  # alarms per 1,000 images, when the strategy used one
    counts: dict | None = None  # {"tp", "fp", "tn", "fn"} on `split` at this threshold
    by: str = Author.PAGE
    format_version: int = FORMAT_VERSION

    def __hash__(self) -> int:
        return hash((self.value, self.score, self.strategy, self.split, self.normal_classes,
                     self.run_id, self.saved))

    @classmethod
    def now(cls, run_id: str, score: str, value: float, normal_classes, strategy: str = MANUAL,
            strategy_value: float | None = None, **extra) -> ThresholdRecord:
        """A record stamped now. The strategy is kept only while the value is still the one it
        set (strategy_value); a value moved by hand since is "manual", tuned on test."""
        kept = strategy_value is not None and math.isclose(strategy_value, value, rel_tol=0,
                                                           abs_tol=1e-12)
        strategy = strategy if kept else MANUAL
        if strategy == MANUAL:
            extra = {k: v for k, v in extra.items() if k in ("by", "counts")}
        return cls(float(value), score, strategy, Split.TEST if strategy == MANUAL else Split.VAL,
                   tuple(normal_classes), run_id, datetime.now(UTC).isoformat(timespec="seconds"),
                   **extra)

    def with_counts(self, scores, is_anomaly) -> ThresholdRecord:
        """The same record with the counts behind it on the split it was fitted on."""
        scores, flags = np.asarray(scores, dtype=float), np.asarray(is_anomaly, dtype=bool)
        called = scores >= self.value
        return replace(self, counts={"tp": int((called & flags).sum()),
                                     "fp": int((called & ~flags).sum()),
                                     "tn": int((~called & ~flags).sum()),
                                     "fn": int((~called & flags).sum())})

    # -- JSON ------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        out = {"format_version": FORMAT_VERSION, "run": self.run_id, "score": self.score,
               "threshold": self.value, "normal_classes": list(self.normal_classes),
               "strategy": self.strategy, "params": dict(self.params), "split": str(self.split),
               "costs": self.costs, "budget": self.budget, "counts": self.counts,
               "saved": self.saved, "by": str(self.by)}
        return out

    @classmethod
    def from_json(cls, d) -> ThresholdRecord | None:
        """The record to_json wrote, or None when it is malformed (a wrong type, a value that is
        not a finite number). Version 1 records get split from strategy; a newer version than
        this code reads raises UserError."""
        if not isinstance(d, dict):
            return None
        version = d.get("format_version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            return None
        if version > FORMAT_VERSION:
            raise UserError(f"this threshold record is format version {version}, from a newer "
                            f"smalldl; this one reads up to version {FORMAT_VERSION}")
        value, classes = d.get("threshold"), d.get("normal_classes")
        texts = [d.get(k) for k in ("score", "strategy", "run", "saved")]
        split = d.get("split", Split.TEST if d.get("strategy") == MANUAL else Split.VAL)
        if (not _finite(value) or not all(isinstance(t, str) for t in texts)
                or not isinstance(classes, list) or not all(isinstance(c, str) for c in classes)
                or split not in set(Split)):
            return None
        extra = {}
        if version >= 2:
            params, costs, budget, counts, by = (d.get(k) for k in ("params", "costs", "budget",
                                                                     "counts", "by"))
            if (not isinstance(params, dict) or not _costs_ok(costs) or not _counts_ok(counts)
                    or not (budget is None or _finite(budget)) or by not in set(Author)):
                return None
            extra = {"params": params, "costs": costs, "budget": budget, "counts": counts,
                     "by": Author(by)}
        score, strategy, run_id, saved = texts
        return cls(float(value), score, strategy, Split(split), tuple(classes), run_id, saved,
                   format_version=version, **extra)

    # -- files -----------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        save_record(self, path)

    @classmethod
    def load(cls, path: Path) -> ThresholdRecord | None:
        """The record in path, or None when it is missing or malformed (see from_json)."""
        d = read_json(path)
        return None if d is None else cls.from_json(d)

    # -- words -----------------------------------------------------------------------------------
    def describe(self) -> str:
        """One line: how it was set, where it was tuned, when and by what it was saved."""
        how = "set by hand" if self.strategy == MANUAL else f"strategy {self.strategy}"
        extra = ""
        if self.costs:
            extra += f", costs {self.costs['false_alarm']:g} per false alarm, {self.costs['miss']:g} per miss"
        if self.budget is not None:
            extra += f", at most {self.budget:g} alarms per 1,000 images"
        if self.counts:
            c = self.counts
            extra += f", TP {c['tp']} FP {c['fp']} TN {c['tn']} FN {c['fn']} on {self.split}"
        by = ({"page": " on the page", "cli": " by the command line", "ship": " by ship"}.get(str(self.by), "")
              if self.format_version >= 2 else "; older record format: no counts or costs")
        return (f"{self.score} >= {self.value:.6g} ({how}, tuned on {self.split}{extra}, saved "
                f"{self.saved}{by})")

    def mismatch(self, score: str, normal_classes) -> str | None:
        """Why this record does not apply to a score and normal classes (None when it does)."""
        if self.score != score:
            return f"the saved threshold is on {self.score}, not {score}"
        if self.score == PROBABILITY and not 0 <= self.value <= 1:
            return (f"the saved probability threshold is {self.value:g}, outside 0 to 1: the record "
                    "is damaged; save it again or give --threshold")
        if self.score != PROBABILITY and tuple(self.normal_classes) != tuple(normal_classes):
            return (f"the saved threshold was set for normal classes {','.join(self.normal_classes) or 'none'}"
                    f", not {','.join(normal_classes) or 'none'}: it is not used")
        return None


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _costs_ok(costs) -> bool:
    return costs is None or (isinstance(costs, dict) and set(costs) == {"false_alarm", "miss"}
                             and all(_finite(v) and v >= 0 for v in costs.values()))


def _counts_ok(counts) -> bool:
    return counts is None or (isinstance(counts, dict) and set(counts) == {"tp", "fp", "tn", "fn"}
                              and all(isinstance(v, int) and v >= 0 for v in counts.values()))


def save_record(record: ThresholdRecord, path: Path) -> None:
    """Write the record (atomically: the old one stays whole if this fails)."""
    write_json(Path(path), record.to_json())


@dataclass(frozen=True)
class Lookup:
    """A record found for a score and normal classes, or why none applies (one line)."""

    record: ThresholdRecord | None
    why_not: str | None = None


def find_record(paths, score: str, normal_classes) -> Lookup:
    """The first of `paths` (most specific first) holding a record that applies; else why the
    first record found does not (another score or normal classes, damaged, a newer format)."""
    why = None
    for path in paths:
        if not Path(path).exists():
            continue
        try:
            record = ThresholdRecord.load(path)
        except UserError as exc:
            why = why or f"{Path(path).name}: {exc}"
            continue
        if record is None:
            why = why or f"the saved threshold in {Path(path).name} is damaged; save it again"
            continue
        problem = record.mismatch(score, normal_classes)
        if problem is None:
            return Lookup(record)
        why = why or problem
    return Lookup(None, why)
