"""Runs: every run with its id, status and best score; overlay curves; rename, delete, resume.
While a run is active the page redraws itself every two seconds, so a status never goes stale."""
import streamlit as st

from core.runs.store import ACTIVE, open_store
from dashboard import state, url
from dashboard.sections import runs as sections
from dashboard.sections.probes import render_replay
from dashboard.sections.runs_filter import query_filter_ui, render_config_diff, render_groups, sweep_filter_ui
from dashboard.widgets.run_picker import run_title

st.title("Runs")


def _active(runs) -> bool:
    return any(sections.safe_status(r).get("state") in ACTIVE for r in runs.values())


def draw() -> None:
    runs = {r.id: r for r in open_store(state.settings()).list()}
    if not runs:
        st.info("No runs yet. Train one on the Train page.")
        return
    runs = {r.id: r for r in query_filter_ui(sweep_filter_ui(list(runs.values())))}
    if not runs:
        st.info("No run matches the filter.")
        return
    render_groups(list(runs.values()))
    sections.render_table(list(runs.values()))
    linked = [i for i in (url.take("runs") or "").split(",") if i in runs]
    if state.has("runs.compared"):  # drop deleted runs, keep the rest of the choice
        state.put("runs.compared", [i for i in state.get("runs.compared") if i in runs])
    selected = state.bound(st.multiselect, "runs_selected", "runs.compared", "Runs to compare",
                           list(runs), default=linked or list(runs)[:2],
                           valid=lambda v: isinstance(v, list) and all(i in runs for i in v),
                           format_func=lambda i: run_title(runs[i]))
    url.show(runs=",".join(selected) or None)
    if not selected:
        st.info("Choose runs to compare their curves and act on them.")
    else:
        chosen = [runs[i] for i in selected]
        sections.render_compare(chosen)
        render_config_diff(chosen)
        for run in chosen:  # its panel: actions, then its answers and film strip epoch by epoch
            sections.render_actions(run, expanded=len(chosen) == 1, more=render_replay)
    if state.get("runs.ticking") and not _active(runs):
        state.put("runs.ticking", False)
        st.rerun()  # the last active run ended: redraw once without the timer


ticking = _active({r.id: r for r in open_store(state.settings()).list()})
state.put("runs.ticking", ticking)
st.fragment(draw, run_every=2.0 if ticking else None)()
