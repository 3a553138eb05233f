"""Sections of the Runs page: the table of every run, their curves overlaid, and per-run actions.

A run folder with junk in it (an unreadable config, a status that is not an object) is listed as
"broken" with the reason and can still be deleted; it never takes the page down.
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from core.errors import UserError
from core.runs.curves import epoch_metric_names
from core.runs.jobs import launch_training
from core.runs.store import ACTIVE, Run, RunState
from core.runs.table import export_zip, run_row
from core.training.config import run_config
from dashboard import state
from dashboard.figures import compare_runs_figure
from dashboard.presentation import chart
from dashboard.sections.train import safe_status
from dashboard.text import plain
from dashboard.widgets.run_picker import render_open_in, run_title

BROKEN = RunState.BROKEN
COLUMNS = ["name", "id", "status", "problem", "shipped", "dataset", "model", "parameters",
           "monitor", "best", "epochs", "seconds", "started"]


def problem(run: Run) -> str | None:
    """Why this run folder cannot be used, or None when it can."""
    try:
        run_config(run)
    except Exception as exc:  # junk in a run folder: a reason to show, not a traceback
        return str(exc)
    status = safe_status(run)
    return status.get("error") if status.get("state") == BROKEN else None


def safe_row(run: Run) -> dict:
    """The run's row; a broken run folder gets status "broken" and the reason."""
    reason = problem(run)
    try:
        row = run_row(run)
    except Exception as exc:
        row, reason = {"id": run.id, "name": run.name(), "shipped": run.read_only}, str(exc)
    if reason:
        row.update(status=BROKEN, problem=reason)
    return row


def render_table(runs: list[Run]) -> None:
    """One row per run: name, id (what the CLI takes), status, best score, size."""
    table = pd.DataFrame([safe_row(r) for r in runs])
    table = table.reindex(columns=[c for c in COLUMNS if c in table or c == "problem"])
    if table["problem"].isna().all():
        table = table.drop(columns="problem")
    with st.container(key="runs_table"):
        st.dataframe(table, hide_index=True, column_config={
            "best": st.column_config.NumberColumn(format="%.4f"),
            "parameters": st.column_config.NumberColumn(format="localized")})
    st.caption("The id (or a name no other run has) is what `python -m core evaluate`, "
               "`threshold` and `train --resume` take.")


def render_compare(chosen: list[Run]) -> None:
    """A per-epoch metric of the chosen runs on one chart (val_loss to start with)."""
    metrics = {run_title(r): r.metrics() for r in chosen if problem(r) is None}
    keys = epoch_metric_names(metrics.values())
    if not keys:
        st.caption("No per-epoch metrics to compare yet.")
        return
    cols = st.columns([3, 1])
    with cols[0]:
        metric = state.bound(st.selectbox, "runs_metric", "runs.metric", "Metric", keys,
                             default="val_loss" if "val_loss" in keys else keys[0],
                             valid=lambda v: v in keys)
    with cols[1]:
        log_y = state.bound(st.toggle, "runs_log", "runs.log_y", "Log scale", default=False)
    chart(compare_runs_figure(metrics, metric, log_y), key="runs_compare")


def _delete_ui(run: Run, col) -> None:
    confirm = col.checkbox("Really delete", key=f"confirm_{run.id}")
    if col.button("Delete", key=f"del_{run.id}", disabled=not confirm):
        try:
            run.delete()
        except UserError as exc:
            st.error(plain(exc))
            return
        state.forget_runs({run.id})
        st.rerun()


def render_actions(run: Run, expanded: bool, more: Callable[[Run], None] | None = None) -> None:
    """One panel per run: download, open in a page, and (for runs of this workspace) rename,
    resume, stop, delete; then `more` (the epoch-by-epoch replay) for a readable run."""
    reason = problem(run)
    state_name = BROKEN if reason else safe_status(run).get("state")
    with st.expander(f"{plain(run_title(run))} · {state_name}", expanded=expanded):
        cols = st.columns(4)
        if reason:
            st.error("This run folder cannot be read: " + plain(reason))
            if not run.read_only:
                _delete_ui(run, cols[3])
            return
        _act(run, cols, state_name)
        if more is not None:
            more(run)


def _act(run: Run, cols, state_name) -> None:
    """Download, open in, rename, resume, stop, delete: what a readable run offers."""
    cols[0].download_button("Download checkpoint", export_zip(run), f"{run.id}.zip",
                            key=f"dl_{run.id}", disabled=not run.checkpoint("best").exists())
    render_open_in(run)
    if run.read_only:
        cols[1].caption("Shipped run: read-only.")
        return
    new_name = cols[1].text_input("Name", run.name(), key=f"name_{run.id}",
                                  label_visibility="collapsed")
    if new_name.strip() and new_name.strip() != run.name():
        run.rename(new_name)
        st.rerun()
    if state_name in (RunState.STOPPED, RunState.INTERRUPTED) and run.resumable():
        if cols[2].button("Resume", key=f"resume_{run.id}"):
            try:  # another tab may have resumed it a moment ago
                launch_training(run, state.settings(), resume=True)
            except UserError as exc:
                st.error(plain(exc))
            else:
                st.rerun()
    if state_name in ACTIVE:
        if run.stop_requested():
            cols[2].button("Stopping…", key=f"stop_{run.id}", disabled=True)
        elif cols[2].button("Stop", key=f"stop_{run.id}"):
            run.request_stop()
            st.rerun()
    _delete_ui(run, cols[3])
