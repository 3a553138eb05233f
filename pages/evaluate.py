"""Evaluate: metrics, confusion matrix with its images, ROC/PR curves, mistakes, comparison."""
import pandas as pd
import streamlit as st

from core.errors import UserError
from core.evaluation.classification import COMPARED, classification_metrics, comparison_row, predict, predictions_frame
from core.data.spec import DatasetSpec
from core.models import Kind
from dashboard import evaluate_views as views
from dashboard.state import settings
from dashboard.widgets.dataset_picker import load_dataset_or_stop
from dashboard.widgets.run_picker import run_picker_ui, runs_of_kind

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

views.headline_ui(metrics)
st.subheader("Per class")
views.per_class_ui(metrics)
st.subheader("Confusion matrix")
views.confusion_ui(ds, p)
if len(p.classes) == 2:
    st.subheader("Probability threshold")
    views.binary_ui(p)
st.subheader("ROC and precision-recall")
views.roc_ui(p)
st.subheader("Most confident mistakes")
views.mistakes_ui(ds, p)

st.subheader("Compare runs")
others = {r.id: r for r in runs_of_kind(Kind.classifiers())}
chosen = st.multiselect("Runs", list(others), default=[run.id], key="compare_runs",
                        format_func=lambda i: others[i].name())
if chosen:
    with st.spinner("Evaluating the chosen runs…"):
        table = pd.DataFrame([comparison_row(others[i], split, settings(),
                                             metrics if i == run.id else None) for i in chosen])
    st.dataframe(table.style.highlight_max(subset=list(COMPARED), color="#cde8c5")
                 .format({k: "{:.4f}" for k in COMPARED}), hide_index=True)
    st.caption("Best value per column highlighted. Runs on other datasets are measured on their "
               "own test split.")

cols = st.columns(2)
# A callable: the 10k-row CSV is built when clicked, not on every rerun.
cols[0].download_button("Predictions (CSV)", lambda: predictions_frame(p).to_csv(index=False),
                        f"{run.id}-{split}-predictions.csv", "text/csv")
cols[1].download_button("Metrics (CSV)", views.metrics_csv(metrics), f"{run.id}-{split}-metrics.csv",
                        "text/csv")
