"""Latent space: a run's codes projected to 2-D, selectable, with class centres, disputable
images, mixture clusters and images generated between two class centres."""
import streamlit as st

st.title("Latent space")  # painted before the imports below (torch, scikit-learn, plotly)

from core.data.spec import DatasetSpec  # noqa: E402
from core.training.config import run_config  # noqa: E402
from dashboard.sections.latent_clusters import render_clusters  # noqa: E402
from dashboard.sections.latent_disputable import render_disputable  # noqa: E402
from dashboard.sections.latent_generate import render_generation  # noqa: E402
from dashboard.sections.latent_map import render_download, render_map  # noqa: E402
from dashboard.sections.latent_projection import load_projection_or_stop  # noqa: E402
from dashboard.sections.latent_space import load_space_or_stop  # noqa: E402
from dashboard.state import Purpose  # noqa: E402
from dashboard.text import plain  # noqa: E402
from dashboard.widgets.dataset_picker import load_dataset_or_stop  # noqa: E402
from dashboard.widgets.run_picker import run_picker_ui  # noqa: E402

run = run_picker_ui(Purpose.LATENT, "Run (classifier, autoencoder or VAE)")
if run is None:
    st.info("No run with a checkpoint yet: train a classifier, autoencoder or VAE on the Train page.")
    st.stop()
ds = load_dataset_or_stop(DatasetSpec.from_text(run_config(run).dataset))
space = load_space_or_stop(run, ds)
codes = space.features.codes
st.caption(f"Codes: the {space.features.layer} ({codes.shape[1]} dimensions) of all "
           f"{space.features.n:,} images of {plain(run_config(run).dataset)}. Class centres are mean "
           "training codes.")

st.subheader("Map")
projection = load_projection_or_stop(space)
render_map(space, projection)

st.subheader("Disputable images")
render_disputable(space)

st.subheader("Clusters")
render_clusters(space)

st.subheader("Generate between two class centres")
render_generation(space)

st.subheader("Download")
render_download(space, projection)
