"""The Anomaly page's threshold: its default, automatic thresholds (fitted on val, reported on val
and test), the threshold panel (histogram, matrix, rates, ROC/PR follow the drag in the browser)
and what follows a committed value in its fragment: the clicked cell's images, the gallery, saving
the threshold and the decisions CSV. The threshold lives in the session model per run + score +
normal classes (dashboard.state)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.anomaly.decisions import (
    decisions_frame,
    default_threshold,
    lookup_threshold,
    saved_threshold_path,
)
from core.anomaly.strategies import compare_strategies, fit_all
from core.anomaly.strategies import title as strategy_title
from core.errors import UserError
from core.evaluation.intervals import too_few
from dashboard import state, url
from dashboard.sections.anomaly_gallery import render_cell, render_gallery
from dashboard.sections.anomaly_inputs import Analysis
from dashboard.state import settings
from dashboard.text import number, plain
from dashboard.widgets.threshold_binding import ThresholdBinding, anomaly_binding
from dashboard.widgets.threshold_panel import threshold_panel_ui

SLIDER = "anomaly_threshold"  # the committed threshold (the panel keeps it here)
COST_KEYS = ("anomaly_cost_fa", "anomaly_cost_miss", "anomaly_budget")  # false alarm, miss, budget inputs


def _context(an: Analysis) -> tuple[str, str, tuple[str, ...]]:
    """What a threshold belongs to: the run, the score and the normal classes."""
    return an.run.id, an.score, an.a.view.normal_classes


def _binding(an: Analysis) -> ThresholdBinding:
    return anomaly_binding(SLIDER, *_context(an))


def _cell_name(an: Analysis) -> str:
    """The matrix cell (TP, FP, TN, FN) clicked last for this run: its images are shown."""
    return state.keyed("anomaly.cell", an.run.id)


def _clicked_name(an: Analysis) -> str:
    return state.keyed("anomaly.clicked", *_context(an))


def _default_threshold(an: Analysis) -> tuple[float, str]:
    """(threshold, where from): a saved record (or why none applies), else max F1 on val."""
    lookup = lookup_threshold(an.run, settings(), an.score, an.a.view.normal_classes)
    if lookup.why_not:
        st.info(plain(f"Saved threshold not used: {lookup.why_not}"))
    return default_threshold(an.strategies, lookup.record, an.values[an.test])


def seed_threshold(an: Analysis) -> state.Threshold:
    """The threshold of this run, score and normal classes from the session model (the link's
    the first time, else a saved record, else max F1 on val), put in the panel."""
    same_view = url.linked("run") == an.run.id and url.linked("score") in (None, an.score)
    return _binding(an).seed(an.bounds, lambda _: same_view, lambda: _default_threshold(an))


def _apply(an: Analysis, name: str) -> None:
    """Button callback: runs before the script, so it may still set the panel's value."""
    name, fitted = _with_costs_now(an, name)
    state.put(_clicked_name(an), name)
    threshold = fitted.threshold
    if threshold is not None:
        value = float(np.clip(threshold, *an.bounds))
        _binding(an).keep(value, name)
        state.show_in_widget(SLIDER, _context(an), value)


def _with_costs_now(an: Analysis, name: str):
    """(name, fitted strategy) with the costs or budget the inputs hold when the click is handled:
    a number typed just before the click has not reached the run that drew the button, whose
    args name the strategy with the old numbers."""
    typed = [st.session_state.get(key) for key in COST_KEYS]
    if None in typed:  # the inputs were not drawn: the button's own strategy
        return name, an.strategies[name]
    text = _cost_texts(*map(float, typed)).get(name.partition("=")[0], name)
    if text in an.strategies:
        return text, an.strategies[text]
    try:
        return text, fit_all(an.values[an.val], an.a.is_anomaly[an.val], (text,))[text]
    except UserError:  # the page shows why on its next run; the drawn strategy meanwhile
        return name, an.strategies[name]


def _cost_texts(fa: float, miss: float, budget: float) -> dict[str, str]:
    """The min-cost and alarm-budget strategies' texts for these numbers, by strategy kind."""
    return {"cost": f"cost={fa:g}:{miss:g}", "budget": f"budget={budget:g}"}


def _costs_name(an: Analysis) -> str:
    return state.keyed("anomaly.costs", an.run.id)


def costs_ui(an: Analysis) -> tuple[float, float, float]:
    """(cost per false alarm, cost per miss, alarm budget per 1,000 images), kept per run; they
    set the min-cost and alarm-budget strategies and the panel's expected-cost curve."""
    cols = st.columns(3)
    fa = state.bound(cols[0].number_input, COST_KEYS[0], state.keyed("anomaly.cost_fa", an.run.id),
                     "Cost of a false alarm", min_value=0.0, max_value=1e9, default=1.0,
                     help="What one normal image called an anomaly costs (any unit).")
    miss = state.bound(cols[1].number_input, COST_KEYS[1],
                       state.keyed("anomaly.cost_miss", an.run.id), "Cost of a miss",
                       min_value=0.0, max_value=1e9, default=10.0,
                       help="What one anomaly called normal costs, in the same unit.")
    budget = state.bound(cols[2].number_input, COST_KEYS[2], state.keyed("anomaly.budget", an.run.id),
                         "Alarm budget (per 1,000 images)", min_value=0.1, max_value=999.0,
                         default=50.0, help="At most this many alarms per 1,000 images.")
    return float(fa), float(miss), float(budget)


def _refit_costs(an: Analysis, fa: float, miss: float, budget: float) -> None:
    """The min-cost and alarm-budget strategies with the user's numbers (in place, in order)."""
    texts = _cost_texts(fa, miss, budget)
    fitted = {}
    for name, f in an.strategies.items():
        base = name.partition("=")[0]
        if base in texts:
            try:
                text = texts[base]
                fitted[text] = fit_all(an.values[an.val], an.a.is_anomaly[an.val], (text,))[text]
            except UserError as exc:
                st.error(plain(exc))
                fitted[name] = f
        else:
            fitted[name] = f
    an.strategies.clear()
    an.strategies.update(fitted)
    state.put(_costs_name(an), (fa, miss) if fa or miss else None)


def render_auto_thresholds(an: Analysis) -> None:
    """Costs and budget, one button per strategy (fitted on validation), and how each one does
    on val and test."""
    _refit_costs(an, *costs_ui(an))
    val_flags = an.a.is_anomaly[an.val]
    few = too_few(int(val_flags.sum()), int((~val_flags).sum()))
    if few:
        st.warning(few)
    cols = st.columns(len(an.strategies))
    for col, (name, fitted) in zip(cols, an.strategies.items()):
        base = name.partition("=")[0]  # cost and budget keep one button as their numbers change
        col.button(strategy_title(name), key=f"auto_{base if base in ('cost', 'budget') else name}",
                   on_click=_apply, args=(an, name),
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


def _record(an: Analysis, threshold: float):
    """The record the page saves (see ThresholdBinding.record)."""
    return _binding(an).record(an.run.id, an.score, threshold, an.a.view.normal_classes,
                               (an.values[an.val], an.a.is_anomaly[an.val]),
                               (an.values[an.test], an.a.is_anomaly[an.test]))


def _render_save_and_export(an: Analysis, threshold: float) -> None:
    from core.anomaly.decide import Decision
    from core.anomaly.report import report_html

    cols = st.columns(3)
    if cols[0].button("Save threshold with the run", key="anomaly_save",
                      help="The saved threshold is the default next time this run and score "
                           "are opened, and what predict and export use."):
        record = _record(an, threshold)
        path = saved_threshold_path(an.run, settings(), an.score)
        record.save(path)
        cols[0].success(plain(f"Saved {record.value:.6g} ({record.strategy}) to {path}"))
    # Callables: built when clicked, not on every commit of the threshold.
    cols[1].download_button("Scores and decisions (CSV)",
                            lambda: decisions_frame(an.a, an.score, threshold, an.ds.classes, an.ds.files)
                            .to_csv(index=False).encode(),
                            f"{an.run.id}-{an.score}-decisions.csv", "text/csv",
                            key="anomaly_csv", help="Every validation and test image.",
                            on_click="ignore")
    cols[2].download_button("Decision report (HTML)",
                            lambda: report_html(Decision(an.run, an.a, _record(an, threshold), []),
                                                settings(), an.ds).encode(),
                            f"{an.run.id}-{an.score}-decision.html", "text/html",
                            key="anomaly_report", on_click="ignore",
                            help="One self-contained file: histogram, matrix with 95% intervals, "
                                 "costs, strategy, splits, model and dataset, the errors.")


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
                                       on_cell=lambda cell: state.put(cell_name, cell),
                                       costs=state.get(_costs_name(an)))
        _binding(an).commit(float(threshold))
        st.subheader("Reconstructions")
        cell = state.get(cell_name)
        if cell:
            render_cell(an, threshold, cell)
        render_gallery(an, threshold)
        st.subheader("Save and export")
        _render_save_and_export(an, threshold)

    panel()
