"""The threshold panel shared by the Evaluate (two classes) and Anomaly pages.

A slider in the score's own units; the confusion matrix and rates follow. It lives in a fragment
so a slider move reruns only this panel, and every number comes from the core ThresholdSweep.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.evaluation.sweep import ThresholdSweep
from dashboard.figures import binary_confusion_figure
from dashboard.text import plain


def _fmt(v: float) -> str:
    return "n/a" if v != v else f"{v:.3f}"


def render_threshold_panel(sweep: ThresholdSweep, key: str, *, default: float, score_label: str,
                           positive: str, negative: str, normal_scores: np.ndarray | None = None,
                           bounds: tuple[float, float] | None = None, on_change=None,
                           on_cell=None) -> None:
    """Slider + live confusion matrix and rates. on_change(threshold, metrics) draws extras;
    on_cell(outcome) hears a click on a matrix cell ("TP", "FP", "TN" or "FN")."""

    @st.fragment
    def panel() -> None:
        lo, hi = bounds or (float(sweep.sorted_scores_[0]), float(sweep.sorted_scores_[-1]))
        if hi <= lo:
            hi = lo + 1.0
        if key not in st.session_state:
            st.session_state[key] = float(np.clip(default, lo, hi))
        threshold = st.slider(f"Threshold on {plain(score_label)}: at or above it an image is "
                              f"called {plain(positive)}", lo, hi, key=key, step=(hi - lo) / 1000,
                              format="%.4g")
        m = sweep.metrics(threshold)
        if normal_scores is not None:
            st.caption(f"{sweep.percentile_of(threshold, normal_scores):.1f}% of the "
                       f"{plain(negative)} scores fall below this threshold (its percentile "
                       f"among them).")
        for warning in sweep.warnings:
            st.warning(warning)
        cols = st.columns(6)
        for col, (label, name) in zip(cols, [("TPR (recall)", "tpr"), ("TNR", "tnr"),
                                             ("precision", "precision"), ("F1", "f1"),
                                             ("accuracy", "accuracy"),
                                             ("balanced acc.", "balanced_accuracy")]):
            col.metric(label, _fmt(m[name]))
        chart = f"{key}_matrix"

        def clicked() -> None:
            points = st.session_state[chart]["selection"]["points"]
            if on_cell is not None and points and "customdata" in points[0]:
                on_cell(points[0]["customdata"])

        st.plotly_chart(binary_confusion_figure(m, positive, negative), key=chart,
                        on_select=clicked, selection_mode="points")
        if on_change is not None:
            on_change(threshold, m)

    panel()
