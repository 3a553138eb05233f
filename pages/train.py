"""Train: pick a model and settings, press Train, watch the curves. Runs go on in the background."""
import streamlit as st

from core.runs import warm
from core.runs.jobs import launch_training
from core.runs.store import open_store
from dashboard import state
from dashboard.sections.train import render_live_runs
from dashboard.text import plain
from dashboard.widgets.dataset_picker import load_picked_dataset_or_stop
from dashboard.widgets.train_form import model_picker_ui, train_form_ui

st.title("Train")
warm.start()  # by the time Train is pressed, runs fork from a process with torch imported
ds = load_picked_dataset_or_stop("Choose a dataset in the sidebar first.")
spec = ds.spec
store = open_store(state.settings())
form_col, live_col = st.columns([2, 3], gap="large")
with form_col:
    st.caption(f"Dataset **{plain(spec.to_text())}**: {len(ds.indices('train')):,} training and "
               f"{len(ds.indices('val')):,} validation images of {ds.shape[1]}x{ds.shape[2]} "
               f"(validation fraction {spec.val_fraction:g}).")
    # The button on top, the live run beside it: pressing Train needs no scrolling, and the new
    # run's curves appear right of it rather than a screen above.
    top = st.container()
    config, problems = train_form_ui(spec.to_text(), ds, model_picker_ui())
    with top:
        for problem in problems:
            st.warning("Cannot train: " + plain(problem))
        if st.button("Train", type="primary", disabled=bool(problems) or config is None,
                     help="Fix the settings marked below first" if problems else None):
            run = store.create(config)
            launch_training(run, state.settings())
            state.watch_run(run.id)
            st.toast(f"Started {plain(run.name())}")

with live_col, st.container(key="train_live"):  # sticky in presentation mode (its CSS)
    render_live_runs(store)
