"""Filter runs by their config fields and their best metric: `model=mlp lr<0.01 best>=0.9`;
group them by a field with the count, mean and spread of their best metric.

Conditions are separated by spaces; each is FIELD OP VALUE with OP one of = != < <= > >=.
Fields: any config field (model, lr, epochs, dataset, sweep, ...), `param.NAME`, and `best`
(the run's best validation metric) and `state`. All conditions must hold.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from statistics import mean, stdev

from core.errors import UserError

CONDITION = re.compile(r"^([A-Za-z_][\w.]*)(<=|>=|!=|=|<|>)(.+)$")
MAX_CONDITIONS = 20


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: object

    def holds(self, record: dict) -> bool:
        have = record.get(self.field)
        if self.op in ("=", "!="):
            same = have == self.value or (have is not None and str(have) == str(self.value))
            return same if self.op == "=" else not same
        if not _number(have) or not _number(self.value):
            return False
        return {"<": have < self.value, "<=": have <= self.value, ">": have > self.value,
                ">=": have >= self.value}[self.op]


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse(text: str) -> list[Condition]:
    """The conditions of a filter text; UserError naming the first that cannot be read."""
    parts = text.split()
    if len(parts) > MAX_CONDITIONS:
        raise UserError(f"a filter has at most {MAX_CONDITIONS} conditions")
    out = []
    for part in parts:
        m = CONDITION.match(part)
        if not m:
            raise UserError(f"cannot read {part[:60]!r}: write FIELD=VALUE, FIELD<VALUE, best>=0.9, ...")
        field, op, raw = m.groups()
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        out.append(Condition(field, op, value))
    return out


def record(run) -> dict:
    """What conditions look at: the config's fields, param.NAME, best and state."""
    config = run.config_dict()  # as written: runs/ reads folders without training
    status = run.status()
    params = {f"param.{k}": v for k, v in (config.get("model_params") or {}).items()}
    return {**config, **params, "best": status.get("best_metric"), "state": status.get("state"),
            "monitor": status.get("monitor")}


def matching(runs: list, conditions: list[Condition]) -> list:
    """The runs every condition holds for (a run whose folder cannot be read matches none)."""
    if not conditions:
        return list(runs)
    out = []
    for run in runs:
        try:
            r = record(run)
        except Exception:  # a broken folder: listed unfiltered only
            continue
        if all(c.holds(r) for c in conditions):
            out.append(run)
    return out


NOT_GROUPED = ("best", "state", "monitor", "name", "created", "run_id")  # per run, not a setting
NONE = "(none)"


def _key(field: str, value) -> str:
    """A field's value as a group's name; a sweep trial's tag SWEEP#N groups by its sweep."""
    if value is None:
        return NONE
    if field == "sweep" and isinstance(value, str):
        return value.partition("#")[0] or NONE
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _records(runs: list) -> list[dict]:
    out = []
    for run in runs:
        try:
            out.append(record(run))
        except Exception:  # a broken folder: in no group
            continue
    return out


def group_fields(runs: list) -> list[str]:
    """The fields worth grouping by: `sweep` when any run is a trial, then every config field
    and param.NAME whose value is not the same for all the runs."""
    recs = _records(runs)
    fields: list[str] = []
    for r in recs:
        fields += [f for f in r if f not in fields and f not in NOT_GROUPED]
    varying = [f for f in fields if len({_key(f, r.get(f)) for r in recs}) > 1]
    if any(r.get("sweep") for r in recs):
        varying = ["sweep", *[f for f in varying if f != "sweep"]]
    return varying


def groups(runs: list, field: str) -> list[dict]:
    """One row per (value of field, metric monitored): how many runs, how many have a best
    metric, and its mean, sample standard deviation (n >= 2), min and max; largest groups first."""
    buckets: dict[tuple[str, str], list] = {}
    for r in _records(runs):
        monitor = r.get("monitor") if isinstance(r.get("monitor"), str) else NONE
        buckets.setdefault((_key(field, r.get(field)), monitor), []).append(r.get("best"))
    rows = []
    for (value, monitor), bests in buckets.items():
        scored = [float(b) for b in bests if _number(b) and math.isfinite(b)]
        rows.append({field: value, "metric": monitor, "runs": len(bests), "scored": len(scored),
                     "mean": mean(scored) if scored else None,
                     "std": stdev(scored) if len(scored) > 1 else None,
                     "min": min(scored) if scored else None, "max": max(scored) if scored else None})
    return sorted(rows, key=lambda g: (-g["runs"], g[field], g["metric"]))
