"""The Anomaly page's threshold: its default, automatic thresholds (fitted on val, reported on val
and test), the threshold panel (histogram, matrix, rates, ROC/PR follow the drag in the browser)
and what follows a committed value in its fragment: the clicked cell's images, the gallery, saving
the threshold and the decisions CSV. The threshold lives in the session model per run + score +
normal classes (dashboard.state)."""
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
from dashboard import state, url
from dashboard.sections.anomaly_gallery import render_cell, render_gallery
from dashboard.sections.anomaly_inputs import Analysis
from dashboard.state import settings
from dashboard.text import number, plain
from dashboard.widgets.threshold_panel import threshold_panel_ui

SLIDER = "anomaly_threshold"  # the committed threshold (the panel keeps it here)


def _context(an: Analysis) -> tuple[str, str, tuple[str, ...]]:
    """What a threshold belongs to: the run, the score and the normal classes."""
    return an.run.id, an.score, an.a.view.normal_classes


def _cell_name(an: Analysis) -> str:
    """The matrix cell (TP, FP, TN, FN) clicked last for this run: its images are shown."""
    return state.keyed("anomaly.cell", an.run.id)


def _clicked_name(an: Analysis) -> str:
    return state.keyed("anomaly.clicked", *_context(an))


def _default_threshold(an: Analysis) -> tuple[float, str]:
    """(threshold, where from): the link's the first time, else a saved one, else max F1 on val."""
    linked = url.take("threshold")
    same_view = url.linked("run") == an.run.id and url.linked("score") in (None, an.score)
    if linked is not None and same_view:  # the link's threshold belongs to its run and score
        try:
            value = float(linked)
            if np.isfinite(value):
                return value, "manual"
        except ValueError:
            pass
    saved = saved_threshold_for(an.run, settings(), an.score, an.a.view.normal_classes)
    return default_threshold(an.strategies, saved, an.values[an.test])


def seed_threshold(an: Analysis) -> state.Threshold:
    """The threshold of this run, score and normal classes from the session model (a default
    the first time; a slider move not yet written back wins), put in the slider."""
    moved = state.moved_widget(SLIDER, _context(an))
    if moved is not None:
        state.set_threshold(*_context(an), float(moved), "manual")
    current = state.threshold(*_context(an))
    if current is None:
        value, source = _default_threshold(an)
        state.set_threshold(*_context(an), float(np.clip(value, *an.bounds)), source)
        current = state.threshold(*_context(an))
    state.show_in_widget(SLIDER, _context(an), float(np.clip(current.value, *an.bounds)))
    return current


def _apply(an: Analysis, name: str) -> None:
    """Button callback: runs before the script, so it may still set the slider's value."""
    state.put(_clicked_name(an), name)
    threshold = an.strategies[name].threshold
    if threshold is not None:
        value = float(np.clip(threshold, *an.bounds))
        state.set_threshold(*_context(an), value, name)
        state.show_in_widget(SLIDER, _context(an), value)


def render_auto_thresholds(an: Analysis) -> None:
    """One button per strategy (fitted on validation), and how each one does on val and test."""
    cols = st.columns(len(an.strategies))
    for col, (name, fitted) in zip(cols, an.strategies.items()):
        col.button(strategy_title(name), key=f"auto_{name}", on_click=_apply, args=(an, name),
                   help=fitted.explanation, width="stretch")
        col.caption(fitted.explanation)
    clicked = state.get(_clicked_name(an))
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
    finite = np.abs(an.values[np.isfinite(an.values)])
    scale = float(finite.max()) if len(finite) else 1.0
    table["threshold"] = [number(v, scale) if np.isfinite(v) else None  # no 5.551e-17
                          for v in table["threshold"].astype(float)]
    st.dataframe(table, hide_index=True, width="stretch", column_config={
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
        current = state.threshold(*_context(an))
        record = SavedThreshold.now(an.run.id, an.score, threshold, an.a.view.normal_classes,
                                    current.source if current else "manual",
                                    current.value if current else None)
        path = saved_threshold_path(an.run, settings(), an.score)
        record.save(path)
        cols[0].success(f"Saved {record.value:.6g} ({record.strategy}) to {plain(path)}")
    # A callable: built when clicked, not on every commit of the threshold.
    cols[1].download_button("Scores and decisions (CSV)",
                            lambda: decisions_frame(an.a, an.score, threshold, an.ds.classes, an.ds.files)
                            .to_csv(index=False).encode(),
                            f"{an.run.id}-{an.score}-decisions.csv", "text/csv",
                            key="anomaly_csv", help="Every validation and test image.",
                            on_click="ignore")


def render_threshold(an: Analysis) -> None:
    """The threshold panel on test scores (histogram, matrix, rates, ROC and PR follow the drag in
    the browser); a committed value reruns this fragment: model, URL, cell images, gallery, save
    and CSV."""

    @st.fragment
    def panel() -> None:
        cell_name = _cell_name(an)
        threshold = threshold_panel_ui(an.sweep, SLIDER, default=st.session_state[SLIDER],
                                       score_label=an.score, positive="anomaly",
                                       negative="normal", bounds=an.bounds,
                                       picked=state.get(cell_name),
                                       on_cell=lambda cell: state.put(cell_name, cell))
        current = state.threshold(*_context(an))
        if current is None or not np.isclose(current.value, threshold, rtol=1e-9, atol=0):
            state.set_threshold(*_context(an), float(threshold), "manual")  # moved by hand
        state.widget_written_back(SLIDER, _context(an), float(threshold))
        url.show(threshold=repr(float(threshold)))
        st.subheader("Reconstructions")
        cell = state.get(cell_name)
        if cell:
            render_cell(an, threshold, cell)
        render_gallery(an, threshold)
        st.subheader("Save and export")
        _render_save_and_export(an, threshold)

    panel()
