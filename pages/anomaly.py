"""Anomaly: an autoencoder's scores, a threshold you drag, and what it catches and misses."""
from contextlib import nullcontext

import streamlit as st

from core.data.spec import DatasetSpec
from core.models import model_kind
from core.training.config import run_config
from dashboard import presentation
from dashboard.sections import anomaly_inputs as inputs
from dashboard.sections import anomaly_threshold as threshold
from dashboard.state import Purpose
from dashboard.widgets.dataset_picker import load_dataset_or_stop
from dashboard.widgets.run_picker import run_picker_ui

st.title("Anomaly detection")
present = presentation.on()  # for a class: the pickers in one line, the threshold panel next
cols = st.columns([3, 2, 3, 3] if present else [4, 2, 3])
with cols[0]:
    run = run_picker_ui(Purpose.ANOMALY, "Autoencoder run")
if run is None:
    st.info("No autoencoder or VAE run with a checkpoint yet: train one on the Train page, on the "
            "normal classes only.")
    st.stop()
with cols[1]:
    score = inputs.score_ui(model_kind(run_config(run).model), run)
with cols[2]:
    view = inputs.view_ui()
ds = load_dataset_or_stop(DatasetSpec.from_text(run_config(run).dataset))
with cols[3] if present else nullcontext():
    normal = inputs.normal_classes_or_stop(run, ds)
scores = inputs.compute_scores_or_stop(run, ds, normal)
analysis = inputs.analyse_or_stop(run, ds, scores, score, view)
threshold.seed_threshold(analysis)

if not present:
    st.subheader("Automatic thresholds")
    threshold.render_auto_thresholds(analysis)
    st.subheader("Threshold")
    st.caption("Drag it: the matrix, rates, histogram, curves and gallery below follow. Images scoring "
               "at or above the threshold are called anomalies; click a cell of the matrix to see its "
               "images. The threshold is kept for this run, score and normal classes while you "
               "visit other pages, and the link in the address bar reopens this view.")
threshold.render_threshold(analysis)
if present:  # the strategies below the panel (their buttons still move it: callbacks run first)
    st.subheader("Automatic thresholds")
    threshold.render_auto_thresholds(analysis)
