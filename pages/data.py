"""Data: summary, class balance, sample grid and preprocessing preview for the chosen dataset."""
import streamlit as st

from dashboard.data_views import (balance_ui, preprocessing_ui, samples_ui, skipped_ui,
                                  summary_ui)
from dashboard.dataset_picker import dataset_picker_ui, load_dataset_ui

st.title("Data")
spec = dataset_picker_ui()
if spec is None:
    st.info("Choose a folder or upload a zip in the sidebar to see a dataset.")
    st.stop()
ds = load_dataset_ui(spec)

skipped_ui(ds)
summary_ui(ds)
st.subheader("Class balance")
balance_ui(ds)
st.subheader("Samples")
samples_ui(ds)
st.subheader("Preprocessing")
preprocessing_ui(ds)
