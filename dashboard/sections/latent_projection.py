"""Latent page: the projection the map draws: PCA at once; UMAP and t-SNE from the run's cache,
or computed by a background job (`python -m core embed`) while PCA is shown."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.errors import UserError
from core.latent.projection import cached_projection, job_status, projection, start_background
from core.runs.store import Run
from dashboard.sections.latent_space import Space
from dashboard.state import settings

TITLES = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}


@dataclass
class Projection:
    method: str
    rows: np.ndarray  # dataset rows drawn (all, or a stated sample)
    xy: np.ndarray


# -- projection ---------------------------------------------------------------------------
@st.fragment(run_every=1)
def _render_job_line(run: Run, method: str, params: dict) -> None:
    """Ticks every second while the background projection runs; reruns the page when it ends."""
    status = job_status(run, settings(), method, params) or {}
    if status.get("state") == "running":
        st.caption(f":material/hourglass_top: computing {TITLES[method]}… "
                   f"{time.time() - status.get('started', time.time()):.0f} s")
        return
    st.rerun(scope="app")


def _projection_method_ui(cols) -> tuple[str, dict]:
    """The method radio and its one parameter (UMAP neighbours, t-SNE perplexity)."""
    method = cols[0].radio("Projection", list(TITLES), format_func=TITLES.get, horizontal=True,
                           key="latent_method")
    if method == "umap":
        return method, {"n_neighbors": int(cols[1].number_input("Neighbours", 2, 200, 15,
                                                                key="latent_neighbours"))}
    if method == "tsne":
        return method, {"perplexity": float(cols[1].number_input(
            "Perplexity", 2.0, 100.0, 30.0, step=5.0, key="latent_perplexity"))}
    return method, {}


def load_projection_or_stop(space: Space) -> Projection:
    """The chosen projection: PCA at once; UMAP/t-SNE from the cache, else PCA meanwhile with a
    button that computes it in the background. A user error stops the page."""
    cols = st.columns([2, 1, 3], vertical_alignment="bottom")
    method, params = _projection_method_ui(cols)
    run, cfg = space.run, settings()
    try:
        with st.spinner("PCA…"):
            rows, xy, _ = projection(run, cfg, "pca", {}, space.features)
        pca = Projection("pca", rows, xy)
        if method == "pca":
            return pca
        found = cached_projection(run, cfg, method, params, space.features)
    except UserError as exc:
        st.error(str(exc))
        st.stop()
    if found is not None:
        return Projection(method, *found)
    title = TITLES[method]
    status = job_status(run, cfg, method, params) or {}
    with cols[2]:
        if status.get("state") == "running":
            _render_job_line(run, method, params)
        else:
            if status.get("state") == "failed":
                st.error(f"{title} failed: {status.get('error')}")
            st.button(f"Compute {title} in the background", key="latent_compute",
                      on_click=start_background, args=(run, cfg, method, params),
                      help="Runs `python -m core embed` in its own process and caches the result; "
                           "the page stays usable meanwhile.")
    st.caption(f"Showing PCA until {title} is computed; it is cached, so it is instant next time.")
    return pca
