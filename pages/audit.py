"""Audit: likely label errors, train/test leaks, outliers; decide, retrain, compare."""
import streamlit as st

from core.audit.report import resolve_target
from core.data.spec import DatasetSpec
from core.errors import UserError
from dashboard import state
from dashboard.sections import audit as sections
from dashboard.sections.audit_decide import decisions_name_ui, render_decide, render_retrain
from dashboard.state import Purpose
from dashboard.text import plain
from dashboard.widgets.dataset_picker import load_dataset_or_stop
from dashboard.widgets.run_picker import run_picker_ui

st.title("Audit")
st.caption("Out-of-sample probabilities from K short trainings of the run's own config rank the "
           "training labels (cleanlab); copies of test images in train are leaks.")
run = run_picker_ui(Purpose.AUDIT, "Classifier run")
if run is None:
    st.info("No classifier run yet: train one on the Train page.")
    st.stop()
options = sections.options_ui()
report = sections.render_job(run.id, options)
if report is None:
    st.stop()
try:
    config, _ = resolve_target(run.id, state.settings())
except UserError as exc:
    st.error(plain(exc))
    st.stop()
ds = load_dataset_or_stop(DatasetSpec.from_text(report["dataset"]).with_(labels=None))
sections.render_summary(report)
tabs = st.tabs(["Label issues", "Duplicates and leaks", "Outliers"])
with tabs[0]:
    sections.render_label_issues(ds, report)
with tabs[1]:
    sections.render_duplicates(ds, report)
with tabs[2]:
    sections.render_outliers(ds, report)
st.subheader("Decide")
name = decisions_name_ui()
if name is None:
    st.stop()
render_decide(report, name)
st.subheader("Train again with these fixes")
render_retrain(config, run.id, name)
