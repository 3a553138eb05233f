"""The Sweep page's view of one sweep: progress, the trials by what differs, the plots, the best."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import UserError
from core.runs.store import open_store
from core.sweeps import results
from core.sweeps.results import TrialState
from core.sweeps.study import SweepDef
from core.sweeps.worker import request_stop, start_worker, worker_running
from dashboard import state
from dashboard.sweep_brush import brushed
from dashboard.sweep_figures import best_so_far_figure, importance_figure
from dashboard.text import plain, sentence
from dashboard.widgets.parcoords_brush import parcoords_brush_ui
from dashboard.widgets.run_picker import render_open_in


@st.cache_data(show_spinner=False, max_entries=8)
def _importance(workspace: str, sweep_dict: dict, n_complete: int) -> dict:
    from pathlib import Path

    return results.importance(Path(workspace), SweepDef.from_dict(sweep_dict))


def trial_rows(sweep: SweepDef) -> list[dict] | None:
    try:
        return results.trials(state.settings().workspace, sweep)
    except UserError as exc:
        st.error(sentence(str(exc)))
        return None


def is_active(sweep: SweepDef, rows: list[dict]) -> bool:
    return worker_running(state.settings(), sweep.id) or any(
        r["state"] in (TrialState.RUNNING, TrialState.WAITING) for r in rows)


def render_progress(sweep: SweepDef, rows: list[dict]) -> None:
    s = results.summary(rows, sweep.n_trials)
    counts = ", ".join(f"{s[k]} {k}" for k in results.STATES if s[k])
    spent = results.budget_spent(sweep, rows) and not any(r["state"] == TrialState.RUNNING for r in rows)
    budget = (f"; {results.epochs_used(rows)} of its {sweep.epoch_budget} epochs used"
              + (": the budget is spent" if spent else "")) if sweep.epoch_budget else ""
    st.progress(1.0 if spent else s["fraction"],
                text=f"{s['ended']} of {s['trials']} trials ended ({counts or 'none yet'}){budget}")
    store = open_store(state.settings())
    for r in rows:
        if r["state"] == TrialState.RUNNING and r["run"]:
            run = store.find(r["run"])
            progress = (run.status().get("progress") or {}) if run else {}
            st.progress(float(progress.get("fraction") or 0.0),
                        text=f"trial {r['number']}: {plain(_params(r['params']))}")
    running = worker_running(state.settings(), sweep.id) or any(r["state"] == TrialState.RUNNING for r in rows)
    cols = st.columns(4)
    if running and cols[0].button("Stop sweep", key=f"sweep_stop_{sweep.id}"):
        request_stop(state.settings().workspace, sweep.id)
        st.toast("Stopping: the trials end at their next step and can be resumed.")
    unfinished = (s["ended"] < s["trials"] and not spent) or any(r["state"] == "waiting" for r in rows)
    if not running and unfinished and cols[0].button("Resume sweep", key=f"sweep_resume_{sweep.id}"):
        start_worker(state.settings(), sweep.id)
        st.rerun()


def _same(row: dict) -> str:
    return "" if row.get("same_as") is None else f"the same point as trial {row['same_as']}, not trained again"


def _params(params: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())


def render_results(sweep: SweepDef, rows: list[dict]) -> None:
    if not rows:
        return
    differ = results.differing(rows)
    complete = [r for r in rows if r["state"] == "complete" and r["value"] is not None]
    shown = rows
    if differ and complete:
        st.caption("Drag along an axis to keep only the trials inside that range (several axes: "
                   "inside all of them); click the axis outside the range to let it go.")
        ranges = parcoords_brush_ui(complete, differ, sweep.metric, key=f"sweep_parcoords_{sweep.id}")
        if ranges:
            shown = brushed(complete, differ, sweep.metric, ranges)
            st.caption(f"{len(shown)} of {len(rows)} trials inside the brushed ranges of "
                       f"{plain(', '.join(ranges))}")
    table = pd.DataFrame([{"trial": r["number"], "state": r["state"], sweep.metric: r["value"],
                           **{n: str(r["params"].get(n)) for n in differ}, "run": r["run"],
                           "why": r["pruned"] or r["error"] or r["ended"] or _same(r)} for r in shown],
                         columns=["trial", "state", sweep.metric, *differ, "run", "why"])
    with st.container(key=f"sweep_trials_{sweep.id}"):  # the browser tests find the table by it
        st.dataframe(table, hide_index=True, key=f"sweep_table_{sweep.id}")
    if sweep.repeats > 1:
        st.caption("Mean and spread over seeds")
        st.dataframe(pd.DataFrame([{**g["params"], "n": g["n"], "mean": g["mean"], "std": g["std"]}
                                   for g in results.repeats(rows)]), hide_index=True)
    if not complete:
        return
    best = results.best(rows, sweep.maximize)
    st.subheader("Best trial")
    st.write(f"Trial {best['number']}: {sweep.metric} **{best['value']:.4f}** with "
             f"{plain(_params(best['params']))}")
    run = open_store(state.settings()).find(best["run"] or "")
    if run is not None:
        render_open_in(run)
        _render_promote(run)
    cols = st.columns(2)
    with cols[0]:
        importance = _importance(str(state.settings().workspace), sweep.to_dict(), len(complete))
        if importance:
            st.plotly_chart(importance_figure(importance), key=f"sweep_importance_{sweep.id}")
        else:
            st.caption("Parameter importance needs two complete trials that differ.")
    with cols[1]:
        st.plotly_chart(best_so_far_figure(results.best_so_far(rows, sweep.maximize), complete,
                                           sweep.metric), key=f"sweep_best_{sweep.id}")


def _render_promote(run) -> None:
    """Give the best run a name of its own (it stays in the sweep)."""
    cols = st.columns([3, 1])
    name = cols[0].text_input("Name the best run", value=run.name(), key=f"sweep_promote_{run.id}")
    if cols[1].button("Rename", key=f"sweep_promote_go_{run.id}") and name.strip():
        try:
            run.rename(name)
            st.toast(f"Renamed to {plain(name.strip())}")
        except UserError as exc:
            st.error(sentence(str(exc)))
