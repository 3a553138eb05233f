"""The Anomaly page's threshold: the slider's default, automatic thresholds (fitted on val,
reported on val and test), the threshold panel (histogram, matrix, rates, ROC/PR follow the drag
in the browser) and what follows a committed value in its fragment: the gallery, saving the
threshold and the decisions CSV."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.anomaly.decisions import (
    SavedThreshold,
    decisions_frame,
    default_threshold,
    saved_threshold_for,
    saved_threshold_path,
)
from core.anomaly.strategies import compare_strategies
from core.anomaly.strategies import title as strategy_title
from dashboard.sections.anomaly_gallery import render_gallery
from dashboard.sections.anomaly_inputs import CONTEXT, Analysis, first_load
from dashboard.state import settings
from dashboard.widgets.threshold_panel import threshold_panel_ui

SLIDER = "anomaly_threshold"  # the committed threshold (the panel keeps it here)
STRATEGY = "anomaly_strategy"  # (name, threshold) of the last automatic or default threshold
CLICKED = "anomaly_clicked"  # the automatic threshold button clicked last


def _default_threshold(an: Analysis) -> tuple[float, str]:
    """(threshold, where from): the URL on first load, else a saved one, else max F1 on val."""
    url = st.query_params.get("threshold")
    if first_load() and url is not None and st.query_params.get("score") == an.score:
        try:
            value = float(url)
            if np.isfinite(value):
                return value, "manual"
        except ValueError:
            pass
    saved = saved_threshold_for(an.run, settings(), an.score, an.a.view.normal_classes)
    return default_threshold(an.strategies, saved, an.values[an.test])


def seed_threshold(an: Analysis) -> None:
    """Reset the slider to the default when the run, score or normal classes change."""
    context = (an.run.id, an.score, an.a.view.normal_classes)
    if st.session_state.get(CONTEXT) != context or SLIDER not in st.session_state:
        value, source = _default_threshold(an)
        value = float(np.clip(value, *an.bounds))
        st.session_state[SLIDER] = value
        st.session_state[STRATEGY] = (source, value)
        st.session_state[CONTEXT] = context
        st.session_state.pop(CLICKED, None)


def _apply(an: Analysis, name: str) -> None:
    """Button callback: runs before the script, so it may still set the slider's value."""
    st.session_state[CLICKED] = name
    threshold = an.strategies[name].threshold
    if threshold is not None:
        value = float(np.clip(threshold, *an.bounds))
        st.session_state[SLIDER] = value
        st.session_state[STRATEGY] = (name, value)


def render_auto_thresholds(an: Analysis) -> None:
    """One button per strategy (fitted on validation), and how each one does on val and test."""
    cols = st.columns(len(an.strategies))
    for col, (name, fitted) in zip(cols, an.strategies.items()):
        col.button(strategy_title(name), key=f"auto_{name}", on_click=_apply, args=(an, name),
                   help=fitted.explanation, width="stretch")
        col.caption(fitted.explanation)
    clicked = st.session_state.get(CLICKED)
    if clicked in an.strategies:
        fitted = an.strategies[clicked]
        for warning in fitted.warnings:
            st.warning(f"{strategy_title(clicked)}: {warning}")
        if fitted.threshold is None:
            st.warning(f"{strategy_title(clicked)} could not be fitted; the threshold is "
                       "unchanged.")
    val_flags = an.a.is_anomaly[an.val]
    table = compare_strategies(an.strategies, an.values[an.val], val_flags, an.sweep)
    table["strategy"] = [strategy_title(name) for name in table["strategy"]]
    if not table["note"].any():
        table = table.drop(columns="note")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "threshold": st.column_config.NumberColumn(format="%.4g"),
        **{c: st.column_config.NumberColumn(format="%.3f") for c in table.columns[2:8]}})
    st.caption(f"Each threshold is tuned on the validation split ({len(an.val):,} images, "
               f"{int(val_flags.sum()):,} anomalies) and reported on the test split "
               f"({len(an.test):,} images in the current view, {an.sweep.n_pos_:,} anomalies): "
               "nothing here is tuned on test.")


def _render_save_and_export(an: Analysis, threshold: float) -> None:
    cols = st.columns(2)
    if cols[0].button("Save threshold with the run", key="anomaly_save",
                      help="The saved threshold is the default next time this run and score "
                           "are opened."):
        name, value = st.session_state.get(STRATEGY, ("manual", None))
        record = SavedThreshold.now(an.run.id, an.score, threshold, an.a.view.normal_classes,
                                    name, value)
        path = saved_threshold_path(an.run, settings(), an.score)
        record.save(path)
        cols[0].success(f"Saved {record.value:.6g} ({record.strategy}) to {path}")
    # A callable: built when clicked, not on every commit of the threshold.
    cols[1].download_button("Scores and decisions (CSV)",
                            lambda: decisions_frame(an.a, an.score, threshold, an.ds.classes)
                            .to_csv(index=False).encode(),
                            f"{an.run.id}-{an.score}-decisions.csv", "text/csv",
                            key="anomaly_csv", help="Every validation and test image.",
                            on_click="ignore")


def render_threshold(an: Analysis) -> None:
    """The threshold panel on test scores (histogram, matrix, rates, ROC and PR follow the drag in
    the browser); a committed value reruns this fragment: URL, gallery, save and CSV."""

    @st.fragment
    def panel() -> None:
        threshold = threshold_panel_ui(an.sweep, SLIDER, default=st.session_state[SLIDER],
                                       score_label=an.score, positive="anomaly",
                                       negative="normal", bounds=an.bounds)
        st.query_params["threshold"] = repr(float(threshold))
        st.subheader("Reconstructions")
        render_gallery(an, threshold)
        st.subheader("Save and export")
        _render_save_and_export(an, threshold)

    panel()
