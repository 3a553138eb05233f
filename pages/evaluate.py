"""Evaluate: metrics, confusion matrix with its images, ROC/PR curves, mistakes, comparison."""
import streamlit as st

from core.data.spec import DatasetSpec
from core.errors import UserError
from core.evaluation.classification import classification_metrics, predict
from core.models import Kind
from dashboard.sections import evaluate as sections
from dashboard.state import settings
from dashboard.widgets.dataset_picker import load_dataset_or_stop
from dashboard.widgets.run_picker import run_picker_ui

st.title("Evaluate")
cols = st.columns([3, 1])
with cols[0]:
    run = run_picker_ui(Kind.classifiers(), "Classifier run")
if run is None:
    st.info("No classifier run with a checkpoint yet: train one on the Train page.")
    st.stop()
split = cols[1].radio("Split", ["test", "val"], horizontal=True, key="eval_split")
ds = load_dataset_or_stop(DatasetSpec.from_text(run.config().dataset))
try:
    with st.spinner("Predicting (once per run and split; cached in the run folder)…"):
        p = predict(run, split, settings(), ds)
except UserError as exc:
    st.error(str(exc))
    st.stop()
metrics = classification_metrics(p)

sections.render_headline(metrics)
st.subheader("Per class")
sections.render_per_class(metrics)
st.subheader("Confusion matrix")
sections.render_confusion(ds, p)
if len(p.classes) == 2:
    st.subheader("Probability threshold")
    sections.render_binary_threshold(p)
st.subheader("ROC and precision-recall")
sections.render_roc(p)
st.subheader("Most confident mistakes")
sections.render_mistakes(ds, p)

st.subheader("Compare runs")
sections.render_comparison(run, split, metrics)
sections.render_downloads(run, split, p, metrics)
