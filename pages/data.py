"""Data: summary, class balance, sample grid and preprocessing preview for the chosen dataset."""
import streamlit as st

from dashboard.data_views import (balance_ui, preprocessing_ui, samples_ui, skipped_ui,
                                  summary_ui)
from dashboard.dataset_picker import dataset_ui

st.title("Data")
ds = dataset_ui()

skipped_ui(ds)
summary_ui(ds)
st.subheader("Class balance")
balance_ui(ds)
st.subheader("Samples")
samples_ui(ds)
st.subheader("Preprocessing")
preprocessing_ui(ds)
