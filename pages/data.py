"""Data: summary, class balance, sample grid and preprocessing preview for the chosen dataset."""
import streamlit as st

from dashboard.sections.data import (
    render_balance,
    render_decisions,
    render_load_warnings,
    render_preprocessing,
    render_samples,
    render_summary,
)
from dashboard.widgets.dataset_picker import load_picked_dataset_or_stop

st.title("Data")
ds = load_picked_dataset_or_stop()

render_load_warnings(ds)
render_summary(ds)
st.subheader("Class balance")
render_balance(ds)
render_decisions(ds)
st.subheader("Samples")
render_samples(ds)
st.subheader("Preprocessing")
render_preprocessing(ds)
