"""Filter runs by their config fields and their best metric: `model=mlp lr<0.01 best>=0.9`.

Conditions are separated by spaces; each is FIELD OP VALUE with OP one of = != < <= > >=.
Fields: any config field (model, lr, epochs, dataset, sweep, ...), `param.NAME`, and `best`
(the run's best validation metric) and `state`. All conditions must hold.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

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
    return {**config, **params, "best": status.get("best_metric"), "state": status.get("state")}


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
