"""Sweep axes: which option varies and over what, checked against TrainConfig and DatasetSpec.

An axis is named after a training option (any TrainConfig field: `lr`, `model`, `epochs`...),
a model or loss parameter (`param.hidden`, `loss_param.beta`) or a dataset option
(`data.size`, `data.steps`, `data.classes`). Values are a list (grid, random, TPE) or a numeric
range `LOW..HIGH` (random and TPE only; `log:` in front for a log scale, ints stay ints).
A joint axis sets several options together, point by point: `model+optimizer=NN_1/sgd,CNN_1/adam`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from enum import StrEnum

from core.data.spec import DatasetSpec
from core.errors import DatasetError, UserError
from core.training.config import TrainConfig

MAX_AXES = 32
MAX_VALUES = 1000
DICT_PREFIXES = {"param": "model_params", "loss_param": "loss_params"}
FIXED = ("dataset", "sweep")  # set by the sweep itself, or through data.* axes


class Search(StrEnum):
    GRID = "grid"
    RANDOM = "random"
    TPE = "tpe"


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple = ()  # the choices; empty for a range
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False

    @property
    def is_range(self) -> bool:
        return not self.values

    def to_dict(self) -> dict:
        if self.is_range:
            return {"name": self.name, "low": self.low, "high": self.high, "log": self.log,
                    "integer": self.integer}
        return {"name": self.name, "values": list(self.values)}

    @classmethod
    def from_dict(cls, d: dict) -> Axis:
        if not isinstance(d, dict) or not isinstance(d.get("name"), str):
            raise UserError(f"an axis is an object with a name, not {str(d)[:60]!r}")
        if "values" in d:
            if not isinstance(d["values"], list):
                raise UserError(f"axis {d['name']}: values must be a list")
            return make_axis(d["name"], d["values"])
        try:
            return make_range(d["name"], float(d["low"]), float(d["high"]), bool(d.get("log")),
                              bool(d.get("integer")))
        except (KeyError, TypeError, ValueError):
            raise UserError(f"axis {d['name']}: give values, or low and high") from None


def option_names() -> list[str]:
    """Every name an axis may have, for the error message and the page's picker."""
    config = [f.name for f in fields(TrainConfig) if f.name not in (*FIXED, *DICT_PREFIXES.values())]
    data = [f"data.{f.name}" for f in fields(DatasetSpec) if f.name not in ("source", "root")]
    return config + data + ["param.NAME", "loss_param.NAME"]


def _check_name(name: str) -> None:
    if "+" in name:  # a joint axis: several options set together, e.g. model+optimizer
        parts = name.split("+")
        if len(set(parts)) != len(parts):
            raise UserError(f"axis {name[:60]} names an option twice")
        for part in parts:
            _check_name(part)
        return
    head, dot, tail = name.partition(".")
    if dot and head in DICT_PREFIXES and tail:
        return
    if dot and head == "data" and tail in {f.name for f in fields(DatasetSpec)} - {"source", "root"}:
        return
    if not dot and name in {f.name for f in fields(TrainConfig)} - set(FIXED) - set(DICT_PREFIXES.values()):
        return
    raise UserError(f"an axis on unknown option {name[:60]!r}; options: {', '.join(option_names())}")


def parse_value(text: str):
    """JSON when it parses (numbers, lists, true/false), else the text itself."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        return text


def split_values(text: str) -> list[str]:
    """Split on commas outside brackets: `hidden=[64,32],[128]` has two values."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch in "[{" and 1 or (-1 if ch in "]}" else 0)
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p for p in (p.strip() for p in parts) if p]


def _joint(name: str, value) -> list:
    """One value of a joint axis: a list with one value per option, or text `a/b`."""
    n, given = name.count("+") + 1, value
    if isinstance(value, str):
        value = [parse_value(v) for v in value.split("/")]
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise UserError(f"axis {name}: each value sets {n} options, e.g. "
                        f"{'/'.join(['...'] * n)}; not {str(given)[:60]!r}")
    return list(value)


def make_axis(name: str, values: list) -> Axis:
    _check_name(name)
    if "+" in name:
        values = [_joint(name, v) for v in values]
    if not values:
        raise UserError(f"axis {name} is empty: give at least one value")
    if len(values) > MAX_VALUES:
        raise UserError(f"axis {name} has {len(values)} values; at most {MAX_VALUES}")
    keys = [json.dumps(v, sort_keys=True) for v in values]
    if len(set(keys)) != len(keys):
        raise UserError(f"axis {name} repeats a value")
    return Axis(name, tuple(tuple(v) if isinstance(v, list) else v for v in values))


def make_range(name: str, low: float, high: float, log: bool = False, integer: bool = False) -> Axis:
    _check_name(name)
    if not (low < high) or (log and low <= 0):
        raise UserError(f"axis {name}: a range needs low < high (and low > 0 on a log scale)")
    return Axis(name, (), low, high, log, integer)


def parse_axis(text: str) -> Axis:
    """`NAME=V1,V2,...` or `NAME=LOW..HIGH` / `NAME=log:LOW..HIGH` (a range)."""
    name, sep, rest = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise UserError(f"an axis is written NAME=V1,V2,... or NAME=LOW..HIGH, not {text[:60]!r}")
    rest = rest.strip()
    log = rest.startswith("log:")
    body = rest.removeprefix("log:")
    if ".." in body and not body.startswith("["):
        lo, _, hi = body.partition("..")
        try:
            low, high = parse_value(lo), parse_value(hi)
            integer = isinstance(low, int) and isinstance(high, int)
            return make_range(name, float(low), float(high), log, integer)
        except (TypeError, ValueError):
            raise UserError(f"axis {name}: a range is LOW..HIGH with two numbers, not {rest[:60]!r}") \
                from None
    return make_axis(name, [parse_value(v) for v in split_values(rest)])


def plain(value):
    """A value as JSON has it (tuples back to lists)."""
    return [plain(v) for v in value] if isinstance(value, (tuple, list)) else value


def apply(base: dict, params: dict) -> TrainConfig:
    """base (a TrainConfig dict) with each axis value set; UserError with one line if refused."""
    d = json.loads(json.dumps(base))
    data_changes = {}
    for name, value in params.items():
        data_changes.update(_apply_joint(d, name, plain(value) if "+" in name else [plain(value)]))
    shown = ", ".join(f"{k}={json.dumps(plain(v))}" for k, v in params.items())
    try:
        if data_changes:
            spec = DatasetSpec.from_text(d.get("dataset") or "digits")
            d["dataset"] = DatasetSpec.from_dict({**spec.to_dict(), **data_changes}).to_text()
        return TrainConfig.from_dict(d)
    except (UserError, DatasetError) as exc:
        raise UserError(f"{shown}: {exc}") from None


def _apply_joint(d: dict, name: str, values: list) -> dict:
    """Set the option(s) of an axis in d; returns the dataset options among them."""
    data = {}
    for part, value in zip(name.split("+"), values):
        head, dot, tail = part.partition(".")
        if dot and head in DICT_PREFIXES:
            d[DICT_PREFIXES[head]] = {**d.get(DICT_PREFIXES[head], {}), tail: value}
        elif dot and head == "data":
            data[tail] = value
        else:
            d[part] = value
    return data


def check_axes(base: dict, axes: list[Axis]) -> None:
    """Each axis value on its own must make a valid config (a bad value is refused at once)."""
    if not axes:
        raise UserError("a sweep needs at least one axis (e.g. --grid lr=0.001,0.003)")
    if len(axes) > MAX_AXES:
        raise UserError(f"at most {MAX_AXES} axes")
    names = [a.name for a in axes]
    if len(set(names)) != len(names):
        raise UserError("an option has two axes: " + ", ".join(sorted({n for n in names if names.count(n) > 1})))
    for axis in axes:
        for value in axis.values or (axis.low, axis.high):
            if axis.integer and not axis.values:
                value = int(value)
            apply(base, {axis.name: value})


def grid_size(axes: list[Axis]) -> int:
    n = 1
    for axis in axes:
        if axis.is_range:
            raise UserError(f"axis {axis.name} is a range; a grid needs a list of values")
        n *= len(axis.values)
    return n
