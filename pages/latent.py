"""Latent space: a run's codes projected to 2-D, selectable, with class centres, disputable
images, mixture clusters and images generated between two class centres."""
import streamlit as st

from core.data.spec import DatasetSpec
from dashboard import latent_sections as sections
from dashboard import latent_views as views
from dashboard.widgets.dataset_picker import load_dataset_or_stop
from dashboard.widgets.run_picker import run_picker_ui

st.title("Latent space")
run = run_picker_ui(views.KINDS, "Run (classifier, autoencoder or VAE)")
if run is None:
    st.info("No run with a checkpoint yet: train a classifier, autoencoder or VAE on the Train page.")
    st.stop()
ds = load_dataset_or_stop(DatasetSpec.from_text(run.config().dataset))
space = views.space_ui(run, ds)
codes = space.features.codes
st.caption(f"Codes: the {space.features.layer} ({codes.shape[1]} dimensions) of all "
           f"{space.features.n:,} images of {run.config().dataset}. Class centres are mean "
           "training codes.")

st.subheader("Map")
projection = views.projection_ui(space)
views.map_ui(space, projection)

st.subheader("Disputable images")
sections.disputable_ui(space)

st.subheader("Clusters")
views.clusters_ui(space)

st.subheader("Generate between two class centres")
sections.generate_ui(space)

st.subheader("Download")
views.download_ui(space, projection)
