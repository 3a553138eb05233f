"""Evaluate: metrics, confusion matrix with its images, ROC/PR curves, mistakes, comparison."""
import streamlit as st

from core.data.spec import DatasetSpec
from core.errors import UserError
from core.evaluation.classification import classification_metrics, predict
from core.training.config import run_config
from dashboard import presentation, state, url
from dashboard.sections import evaluate as sections
from dashboard.sections.evaluate_confusion import render_confusion
from dashboard.state import Purpose
from dashboard.text import plain
from dashboard.widgets.dataset_picker import load_dataset_or_stop
from dashboard.widgets.run_picker import run_picker_ui

st.title("Evaluate")
cols = st.columns([3, 1])
with cols[0]:
    run = run_picker_ui(Purpose.EVALUATE, "Classifier run")
if run is None:
    st.info("No classifier run with a checkpoint yet: train one on the Train page.")
    st.stop()
with cols[1]:
    split = state.bound(st.radio, "eval_split", "evaluate.split", "Split", ["test", "val"],
                        default=url.take("split") or "test", valid=lambda v: v in ("test", "val"),
                        horizontal=True)
url.show(split=None if split == "test" else split)
ds = load_dataset_or_stop(DatasetSpec.from_text(run_config(run).dataset))
try:
    with st.spinner("Predicting (once per run and split; cached in the run folder)…"):
        p = predict(run, split, state.settings(), ds)
except UserError as exc:
    st.error(plain(exc))
    st.stop()
metrics = classification_metrics(p)
for note in p.notes:  # e.g. a full disk: the results are shown, only not kept
    st.caption(plain(note))

if presentation.on():  # for a class: the matrix with its images first, on the first screen
    render_confusion(ds, p, run)
sections.render_headline(metrics)
st.subheader("Per class")
sections.render_per_class(metrics)
if not presentation.on():
    st.subheader("Confusion matrix")
    render_confusion(ds, p, run)
if len(p.classes) == 2:
    st.subheader("Probability threshold")
    sections.render_binary_threshold(p, run, sections.positive_class_ui(p, run))
st.subheader("ROC and precision-recall")
sections.render_roc(p, run)
st.subheader("Most confident mistakes")
sections.render_mistakes(ds, p)

st.subheader("Compare runs")
sections.render_comparison(run, split, metrics)
sections.render_downloads(run, split, p, metrics)
