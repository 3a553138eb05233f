"""The threshold panel shared by the Anomaly page and Evaluate's two-class threshold.

A components-v2 element (inline HTML, CSS and JS from threshold_panel_assets/, no iframe) fed once
per session with the sweep's table from core (`ThresholdSweep.table`): the browser answers every
drag and key position by itself (matrix, rates, percentile, histogram line, ROC and PR point, in
one frame, with 95% intervals of TPR, TNR, precision and F1 and, given costs, the expected cost
and its curve under the histogram) and sends back one value per release or keyboard commit. The committed threshold is
kept at st.session_state[key], which no widget owns, so it outlives the page.
"""
from __future__ import annotations

import base64
import hashlib
import math
from functools import partial
from pathlib import Path

import numpy as np
import streamlit as st

from core.anomaly.outcomes import Cell
from core.errors import UserError
from core.evaluation.sweep import ThresholdSweep
from dashboard import presentation

ASSETS = Path(__file__).with_name("threshold_panel_assets")
HISTOGRAM_BINS = 40
SENT = "threshold_panel_sent"  # ids of the payloads this session has sent to the browser
MAX_SENT = 8  # the browser keeps as many (panel.js MAX_PAYLOADS)


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


_mount = st.components.v2.component(
    "threshold_panel", html=_asset("panel.html"), css=_asset("panel.css"),
    js="\n".join(_asset(name) for name in ("sweep.js", "charts.js", "panel.js")))


def _base64(values: np.ndarray, dtype: str) -> str:
    """Little-endian binary in base64: 8 bytes a score where JSON digits take about 20."""
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode("ascii")


def sweep_payload(sweep: ThresholdSweep, bounds: tuple[float, float],
                  bins: int = HISTOGRAM_BINS) -> dict:
    """What the browser needs, once: the counts table, the histogram on the slider's axis and
    the areas under the curves (None when there is only one kind of image)."""
    table = sweep.table()
    edges = np.linspace(bounds[0], bounds[1], bins + 1)
    negatives, positives = sweep.histogram(edges)
    try:
        curves = sweep.curves()
        auc = {"roc_auc": curves["roc_auc"], "average_precision": curves["average_precision"]}
    except UserError:
        auc = None
    return {"table": {"thresholds": _base64(table.thresholds, "<f8"),
                      "below": _base64(table.below, "<i4"),
                      "positives_below": _base64(table.positives_below, "<i4"),
                      "n_pos": table.n_pos, "n_neg": table.n_neg, "exact": table.exact},
            "histogram": {"edges": edges.tolist(), "negatives": negatives.tolist(),
                          "positives": positives.tolist()},
            "auc": auc}


def payload_id(sweep: ThresholdSweep, bounds: tuple[float, float]) -> str:
    """Names a payload by its content, so it is sent once per run, score and view."""
    digest = hashlib.blake2b(digest_size=12)
    for part in (sweep.sorted_scores_, sweep.positives_below_,
                 np.asarray(bounds, dtype=np.float64), np.asarray([HISTOGRAM_BINS])):
        digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()


def _on_commit(key: str, panel_key: str, bounds: tuple[float, float]) -> None:
    """The browser's committed value, checked (a finite number, clipped to the slider's range)
    before it replaces the kept threshold; anything else is ignored."""
    value = (st.session_state.get(panel_key) or {}).get("commit")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        st.session_state[key] = float(min(max(value, bounds[0]), bounds[1]))


def _on_cell(panel_key: str, on_cell) -> None:
    """A click on a matrix cell: "TP", "FP", "TN" or "FN" (anything else is ignored)."""
    value = (st.session_state.get(panel_key) or {}).get("cell")
    if value in tuple(Cell):
        on_cell(value)


def _on_missing() -> None:
    """The browser lacks a payload this session thought it had sent: send it again."""
    st.session_state[SENT] = []


def threshold_panel_ui(sweep: ThresholdSweep, key: str, *, default: float, score_label: str,
                       positive: str, negative: str,
                       bounds: tuple[float, float] | None = None, picked: str | None = None,
                       on_cell=None, costs: tuple[float, float] | None = None) -> float:
    """Draw the panel for the sweep; returns the committed threshold (kept at session_state[key],
    seeded with default). Call it inside a fragment so a commit reruns only what follows it.
    on_cell(outcome) hears a click on a matrix cell; picked outlines the cell shown below.
    costs (per false alarm, per miss) draw the expected-cost curve under the histogram."""
    lo, hi = bounds or (float(sweep.sorted_scores_[0]), float(sweep.sorted_scores_[-1]))
    if not hi > lo:
        hi = lo + 1.0
    if key not in st.session_state:
        st.session_state[key] = default
    value = float(np.clip(st.session_state[key], lo, hi))
    st.session_state[key] = value
    for warning in sweep.warnings:
        st.warning(warning)

    ident = payload_id(sweep, (lo, hi))
    sent = list(st.session_state.get(SENT, []))
    data = {"id": ident, "value": value, "bounds": [lo, hi], "picked": picked,
            "present": presentation.on(),
            "costs": [float(c) for c in costs] if costs else None,
            "labels": {"score": score_label, "positive": positive, "negative": negative},
            "payload": None if ident in sent else sweep_payload(sweep, (lo, hi))}
    if ident not in sent:
        st.session_state[SENT] = (sent + [ident])[-MAX_SENT:]
    panel_key = f"{key}_panel"
    callbacks = {"on_commit_change": partial(_on_commit, key, panel_key, (lo, hi)),
                 "on_missing_change": _on_missing}
    if on_cell is not None:
        callbacks["on_cell_change"] = partial(_on_cell, panel_key, on_cell)
    _mount(key=panel_key, data=data, height="content", **callbacks)
    return value
