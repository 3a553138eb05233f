"""Data: summary, class balance, sample grid and preprocessing preview for the chosen dataset."""
import streamlit as st

from dashboard.data_views import (balance_ui, preprocessing_ui, samples_ui, skipped_ui,
                                  summary_ui)
from dashboard.widgets.dataset_picker import load_picked_dataset_or_stop

st.title("Data")
ds = load_picked_dataset_or_stop()

skipped_ui(ds)
summary_ui(ds)
st.subheader("Class balance")
balance_ui(ds)
st.subheader("Samples")
samples_ui(ds)
st.subheader("Preprocessing")
preprocessing_ui(ds)
