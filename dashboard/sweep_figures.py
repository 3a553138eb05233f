"""Pure plotly builders for the Sweep page (data in, Figure out)."""
from __future__ import annotations

import plotly.graph_objects as go

from dashboard.sweep_brush import axis_numbers
from dashboard.text import plot_text


def _axis(name: str, values: list, spans: list | None) -> dict:
    """A Parcoords dimension: numbers as they are, anything else as ordered categories; spans
    (the kept brush) drawn as its constraint range."""
    numbers, cats = axis_numbers(values)
    dim = dict(label=plot_text(name), values=numbers)
    if cats is not None:
        dim.update(tickvals=list(range(len(cats))), ticktext=[plot_text(c) for c in cats])
    if spans:
        dim["constraintrange"] = [list(s) for s in spans] if len(spans) > 1 else list(spans[0])
    return dim


def parcoords_figure(rows: list[dict], names: list[str], metric: str, ranges: dict | None = None) -> go.Figure:
    """One line per complete trial across the params that differ, ending at the metric; ranges
    ({axis: [(low, high), ...]}, sweep_brush.clean_ranges) are drawn as brushes."""
    done = [r for r in rows if r["value"] is not None]
    ranges = ranges or {}
    dims = [_axis(n, [r["params"].get(n) for r in done], ranges.get(n)) for n in names]
    values = [r["value"] for r in done]
    dims.append(_axis(metric, values, ranges.get(metric)))
    fig = go.Figure(go.Parcoords(dimensions=dims, line=dict(color=values, colorscale="Viridis",
                                                            showscale=True)))
    fig.update_layout(margin=dict(l=60, r=40, t=40, b=20), height=360)
    return fig


def importance_figure(importance: dict[str, float]) -> go.Figure:
    names = list(importance)[::-1]
    fig = go.Figure(go.Bar(x=[importance[n] for n in names], y=[plot_text(n) for n in names],
                           orientation="h"))
    fig.update_layout(xaxis_title="importance (fANOVA, sums to 1)", margin=dict(l=10, r=10, t=30, b=10),
                      height=80 + 30 * len(names))
    return fig


def best_so_far_figure(points: list[tuple[int, float]], rows: list[dict], metric: str) -> go.Figure:
    fig = go.Figure()
    done = [r for r in rows if r["value"] is not None]
    fig.add_scatter(x=[r["number"] for r in done], y=[r["value"] for r in done], mode="markers",
                    name="trial")
    fig.add_scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines",
                    line_shape="hv", name="best so far")
    fig.update_layout(xaxis_title="trial", yaxis_title=metric, margin=dict(l=10, r=10, t=30, b=10),
                      height=300)
    return fig
