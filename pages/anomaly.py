"""Anomaly: an autoencoder's scores, a threshold you drag, and what it catches and misses."""
import streamlit as st

from core.models import Kind, model_kind
from core.data.spec import DatasetSpec
from dashboard import anomaly_views as views
from dashboard.widgets.dataset_picker import load_dataset_or_stop
from dashboard.widgets.run_picker import run_picker_ui

st.title("Anomaly detection")
cols = st.columns([4, 2, 3])
with cols[0]:
    run = run_picker_ui(Kind.with_decoder(), "Autoencoder run")
if run is None:
    st.info("No autoencoder or VAE run with a checkpoint yet: train one on the Train page, on the "
            "normal classes only.")
    st.stop()
with cols[1]:
    score = views.score_ui(model_kind(run.config().model))
with cols[2]:
    view = views.view_ui()
ds = load_dataset_or_stop(DatasetSpec.from_text(run.config().dataset))
normal = views.normal_classes_ui(run, ds)
scores = views.compute_scores_ui(run, ds, normal)
analysis = views.analysis_ui(run, ds, scores, score, view)
views.prepare_threshold(analysis)

st.subheader("Automatic thresholds")
views.auto_thresholds_ui(analysis)

st.subheader("Threshold")
st.caption("Drag it: the matrix, rates, histogram, curves and gallery below follow. Images scoring "
           "at or above the threshold are called anomalies. The link in the address bar reopens "
           "this view (run, score, threshold).")
views.threshold_ui(analysis)
