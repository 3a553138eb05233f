"""Train: pick a model and settings, press Train, watch the curves. Runs go on in the background."""
import streamlit as st

from core.runs.store import ACTIVE, open_store
from core.runs.jobs import launch_training, train_command
from dashboard.state import settings, watch_run, watched_runs
from dashboard.widgets.dataset_picker import load_picked_dataset_or_stop
from dashboard.run_views import live_run_ui
from dashboard.widgets.train_form import model_picker_ui, train_form_ui

st.title("Train")
ds = load_picked_dataset_or_stop("Choose a dataset in the sidebar first.")
spec = ds.spec
store = open_store(settings())
form_col, live_col = st.columns([2, 3], gap="large")
with form_col:
    st.caption(f"Dataset **{spec.to_text()}**: {len(ds.indices('train')):,} training and "
               f"{len(ds.indices('val')):,} validation images of {ds.shape[1]}x{ds.shape[2]}.")
    config = train_form_ui(spec.to_text(), ds, model_picker_ui())
if config is not None:
    run = store.create(config)
    launch_training(run, settings())
    watch_run(run.id)
    st.toast(f"Started {run.name()}")

with live_col:
    # Runs started here, plus any other active run (started elsewhere, or before a reload).
    watched = watched_runs()
    active = [r.id for r in store.list() if r.status().get("state") in ACTIVE]
    shown = list(dict.fromkeys(active + watched))[:4]
    if not shown:
        st.info("No run yet: choose settings and press Train. Past runs are on the Runs page.")
        st.stop()
    cols = st.columns([3, 1])
    smoothing = cols[0].slider("Smoothing", 0.0, 0.99, 0.6, 0.01, key="train_smoothing")
    log_y = cols[1].toggle("Log-scale loss", key="train_log")
    for run_id in shown:
        run = store.get(run_id)
        live_run_ui(run, smoothing, log_y)
        with st.expander("The same run from a terminal"):
            st.code(" ".join(train_command(run)), language="bash")
