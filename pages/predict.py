"""Predict: a run and the threshold tuned for it, applied to new images; decisions as a sorted
gallery, a drift histogram, a table and a CSV, and the run as a bundle for another machine."""
import streamlit as st

from dashboard.sections import predict_inputs as inputs
from dashboard.sections import predict_results as results
from dashboard.state import Purpose
from dashboard.widgets.run_picker import run_picker_ui

st.title("Predict on new images")
cols = st.columns([4, 2])
with cols[0]:
    run = run_picker_ui(Purpose.PREDICT, "Run")
if run is None:
    st.info("No run with a checkpoint yet: train one on the Train page.")
    st.stop()
detector = inputs.detector_or_stop(run)
with cols[1]:
    score = inputs.score_ui(detector)
st.caption(inputs.plain(f"New images are read as this run's were: {detector.recipe.describe()}."))
choice = inputs.threshold_ui(detector, score)
images = inputs.images_ui()
if images is None:
    st.info("Drop images or a .zip of them above (any folder depth), or type a folder.")
    st.stop()
result = inputs.predict_or_stop(run, detector, images, choice)

st.subheader("Decisions")
results.render_summary(result)
results.render_drift(detector, result)
st.subheader("Gallery")
results.render_gallery(run, detector, result, images)
st.subheader("Every image")
results.render_table(result)
results.render_downloads(run, detector, result)
