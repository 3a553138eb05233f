"""Runs: every run with its status and best score; overlay curves; rename, delete, download."""
import pandas as pd
import streamlit as st

from core.errors import UserError
from core.runs.table import export_zip, run_row
from core.runs.store import ACTIVE, open_store
from core.runs.jobs import launch_training
from dashboard.state import settings
from dashboard.figures import compare_runs_figure
from dashboard.widgets.run_picker import render_open_in

st.title("Runs")
store = open_store(settings())
runs = {r.id: r for r in store.list()}
if not runs:
    st.info("No runs yet. Train one on the Train page.")
    st.stop()

table = pd.DataFrame([run_row(r) for r in runs.values()])
st.dataframe(table.drop(columns=["id"]), hide_index=True,
             column_config={"best": st.column_config.NumberColumn(format="%.4f"),
                            "parameters": st.column_config.NumberColumn(format="localized")})
selected = st.multiselect("Runs to compare", list(runs), default=list(runs)[:2], key="runs_selected",
                          format_func=lambda i: runs[i].name())
if not selected:
    st.info("Choose runs to compare their curves and act on them.")
    st.stop()

chosen = [runs[i] for i in selected]
metrics = {r.name(): r.metrics() for r in chosen}
keys = sorted({k for records in metrics.values() for m in records if m.get("type") == "epoch"
               for k in m if k.startswith(("val_", "train_"))})
cols = st.columns([3, 1])
metric = cols[0].selectbox("Metric", keys, index=keys.index("val_loss") if "val_loss" in keys else 0)
log_y = cols[1].toggle("Log scale", key="runs_log")
st.plotly_chart(compare_runs_figure(metrics, metric, log_y), key="runs_compare")

for run in chosen:
    with st.expander(f"{run.name()} · {run.status().get('state')}", expanded=len(chosen) == 1):
        state = run.status().get("state")
        cols = st.columns(4)
        cols[0].download_button("Download checkpoint", export_zip(run), f"{run.id}.zip",
                                key=f"dl_{run.id}", disabled=not run.checkpoint("best").exists())
        render_open_in(run)
        if run.read_only:
            cols[1].caption("Shipped run: read-only.")
            continue
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
