"""A parallel-coordinates plot whose axis brushing the page hears (st.plotly_chart reports no
selection on Parcoords): a components-v2 element that draws the figure with plotly.js from the
installed plotly package, sent once per session (about 5 MB, never fetched from the internet),
and sends back the brushed ranges when a brush is released. The ranges are checked
(sweep_brush.clean_ranges) and kept at st.session_state[f"{key}_ranges"], which no widget owns; each redraw
draws them as the figure's constraint ranges, so the brush outlives reruns and page switches.
"""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import streamlit as st

from dashboard.sweep_brush import clean_ranges
from dashboard.sweep_figures import parcoords_figure

ASSETS = Path(__file__).with_name("parcoords_brush_assets")
SENT = "parcoords_brush_sent"  # True once this session has sent plotly.js to the browser

_mount = st.components.v2.component(
    "parcoords_brush", html='<div class="pb-plot" style="width:100%;height:380px"></div>',
    js=(ASSETS / "brush.js").read_text(encoding="utf-8"), isolate_styles=False)  # plotly styles the page


def _on_ranges(kept_key: str, key: str, names: list[str]) -> None:
    st.session_state[kept_key] = clean_ranges((st.session_state.get(key) or {}).get("ranges"), names)


def _on_missing() -> None:
    st.session_state[SENT] = False


def parcoords_brush_ui(rows: list[dict], names: list[str], metric: str, key: str) -> dict:
    """Draw the trials (rows with a value) across the param axes `names` and the metric; returns
    the kept brush {axis: [(low, high), ...]} ({} when nothing is brushed)."""
    from plotly.offline import get_plotlyjs, get_plotlyjs_version

    axes, kept_key = [*names, metric], f"{key}_ranges"
    kept = clean_ranges({n: [list(s) for s in spans] for n, spans in st.session_state.get(kept_key, {}).items()},
                        axes)
    st.session_state[kept_key] = kept
    figure = json.loads(parcoords_figure(rows, names, metric, kept).to_json())
    sent = bool(st.session_state.get(SENT))
    st.session_state[SENT] = True
    _mount(key=key, height="content",
           data={"figure": figure, "names": axes, "plotly": get_plotlyjs_version(),
                 "source": None if sent else get_plotlyjs()},
           on_ranges_change=partial(_on_ranges, kept_key, key, axes), on_missing_change=_on_missing)
    return kept
