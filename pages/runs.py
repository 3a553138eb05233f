"""Runs: every run with its status and best score; overlay curves; rename, delete, download."""
import streamlit as st

from core.runs.store import open_store
from dashboard.sections import runs as sections
from dashboard.state import settings

st.title("Runs")
runs = {r.id: r for r in open_store(settings()).list()}
if not runs:
    st.info("No runs yet. Train one on the Train page.")
    st.stop()

sections.render_table(list(runs.values()))
selected = st.multiselect("Runs to compare", list(runs), default=list(runs)[:2], key="runs_selected",
                          format_func=lambda i: runs[i].name())
if not selected:
    st.info("Choose runs to compare their curves and act on them.")
    st.stop()

chosen = [runs[i] for i in selected]
sections.render_compare(chosen)
for run in chosen:
    sections.render_actions(run, expanded=len(chosen) == 1)
