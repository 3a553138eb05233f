"""Which trials lie inside the ranges brushed on the parallel-coordinates plot (pure, no UI).

The plot draws each trial on every axis at a number: a numeric param at its value, any other
param at the index of its value among the sorted distinct values (`axis_numbers`). A brush on an
axis is one or more [low, high] ranges on that scale (plotly's `constraintrange`); a trial is
kept when, on every brushed axis, its number falls inside one of the ranges (ends included).
"""
from __future__ import annotations

import json
import math

MAX_RANGES = 16  # per axis: more than anyone brushes; anything beyond is refused, not trusted
SLACK = 1e-9  # relative: an end that the browser sent back through float32 still includes its value


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def axis_numbers(values: list) -> tuple[list[float], list[str] | None]:
    """Each value's position on its axis, and the category names (None on a numeric axis)."""
    if all(is_number(v) for v in values):
        return [float(v) for v in values], None
    shown = [v if isinstance(v, str) else json.dumps(v) for v in values]
    cats = sorted(set(shown))
    return [float(cats.index(s)) for s in shown], cats


def clean_ranges(value, names: list[str]) -> dict[str, list[tuple[float, float]]]:
    """The browser's brush, checked: {axis name: [(low, high), ...]} for known axes with finite
    ends; plotly sends one range as [lo, hi] and several as [[lo, hi], ...]. Anything malformed
    is dropped (an axis at a time), so a bad message never filters the table."""
    out: dict[str, list[tuple[float, float]]] = {}
    if not isinstance(value, dict):
        return out
    for name, spans in value.items():
        if name not in names or not isinstance(spans, list) or not spans:
            continue
        if all(is_number(v) for v in spans):
            spans = [spans]
        if len(spans) > MAX_RANGES or not all(
                isinstance(s, list) and len(s) == 2 and all(is_number(v) and math.isfinite(v) for v in s)
                for s in spans):
            continue
        out[name] = sorted((float(min(s)), float(max(s))) for s in spans)
    return out


def _inside(x: float, spans: list[tuple[float, float]]) -> bool:
    for lo, hi in spans:
        slack = SLACK * max(1.0, abs(lo), abs(hi))
        if lo - slack <= x <= hi + slack:
            return True
    return False


def brushed(rows: list[dict], names: list[str], metric: str,
            ranges: dict[str, list[tuple[float, float]]]) -> list[dict]:
    """The rows drawn on the plot (those with a value) inside every brushed range, in order.
    names are the param axes as drawn; the last axis is the metric, named `metric`."""
    drawn = [r for r in rows if r["value"] is not None]
    columns = {n: axis_numbers([r["params"].get(n) for r in drawn])[0] for n in names}
    columns[metric] = [float(r["value"]) for r in drawn]
    active = {n: spans for n, spans in ranges.items() if n in columns}
    return [r for i, r in enumerate(drawn)
            if all(_inside(columns[n][i], spans) for n, spans in active.items())]
