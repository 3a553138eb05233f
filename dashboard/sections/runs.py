"""Sections of the Runs page: the table of every run, their curves overlaid, and per-run actions."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import UserError
from core.runs.curves import epoch_metric_names
from core.runs.jobs import launch_training
from core.runs.store import ACTIVE, Run
from core.runs.table import export_zip, run_row
from dashboard.figures import compare_runs_figure
from dashboard.state import settings
from dashboard.widgets.run_picker import render_open_in


def render_table(runs: list[Run]) -> None:
    """One row per run: status, best score, size (the id column stays out of sight)."""
    table = pd.DataFrame([run_row(r) for r in runs])
    st.dataframe(table.drop(columns=["id"]), hide_index=True,
                 column_config={"best": st.column_config.NumberColumn(format="%.4f"),
                                "parameters": st.column_config.NumberColumn(format="localized")})


def render_compare(chosen: list[Run]) -> None:
    """A per-epoch metric of the chosen runs on one chart (val_loss to start with)."""
    metrics = {r.name(): r.metrics() for r in chosen}
    keys = epoch_metric_names(metrics.values())
    cols = st.columns([3, 1])
    metric = cols[0].selectbox("Metric", keys,
                               index=keys.index("val_loss") if "val_loss" in keys else 0)
    log_y = cols[1].toggle("Log scale", key="runs_log")
    st.plotly_chart(compare_runs_figure(metrics, metric, log_y), key="runs_compare")


def render_actions(run: Run, expanded: bool) -> None:
    """Download, open in a page, and (for runs of this workspace) rename, resume, stop, delete."""
    with st.expander(f"{run.name()} · {run.status().get('state')}", expanded=expanded):
        state = run.status().get("state")
        cols = st.columns(4)
        cols[0].download_button("Download checkpoint", export_zip(run), f"{run.id}.zip",
                                key=f"dl_{run.id}", disabled=not run.checkpoint("best").exists())
        render_open_in(run)
        if run.read_only:
            cols[1].caption("Shipped run: read-only.")
            return
        new_name = cols[1].text_input("Name", run.name(), key=f"name_{run.id}",
                                      label_visibility="collapsed")
        if new_name != run.name():
            run.rename(new_name)
            st.rerun()
        if state in ("stopped", "interrupted") and cols[2].button("Resume", key=f"resume_{run.id}"):
            launch_training(run, settings(), resume=True)
            st.rerun()
        if state in ACTIVE and cols[2].button("Stop", key=f"stop_{run.id}"):
            run.request_stop()
        confirm = cols[3].checkbox("Really delete", key=f"confirm_{run.id}")
        if cols[3].button("Delete", key=f"del_{run.id}", disabled=not confirm):
            try:
                run.delete()
                st.rerun()
            except UserError as exc:
                st.error(str(exc))
