"""Latent page: Gaussian-mixture clusters of the codes (fitted in core.latent.clusters, named by
training labels, scored on test), fitted on request; once fitted they can colour the map."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.errors import UserError
from core.latent.clusters import Clusters, mixture_clusters
from dashboard.figures import bic_figure, confusion_figure
from dashboard.sections.latent_space import Space
from dashboard.text import plain

FITTED = "latent_clusters_run"  # the Space.key the clusters were fitted for


@st.cache_data(max_entries=16, show_spinner=False)
def _mixture(key: str, k: int | None, _space: Space) -> Clusters:
    """mixture_clusters fitted and named on training codes, scored on the test split."""
    s = _space
    return mixture_clusters(s.features.codes[s.train], s.labels[s.train], s.features.codes[s.test],
                            s.labels[s.test], s.classes, n_components=k)


def clusters_of(space: Space, k: int | None) -> Clusters:
    """Train-vs-test clusters (the scores shown)."""
    return _mixture(space.key, k, space)


def cluster_names_of(space: Space, rows: np.ndarray, k: int | None) -> np.ndarray:
    """'cluster 3 · 5' for each of rows: the same mixture (same training codes, same number of
    components, same seed) asked about the drawn rows rather than the test split."""
    return clusters_of(space, k).component_names(space.features.codes[rows])


def clusters_on(space: Space) -> bool:
    """Whether clusters were fitted for this space (then the map may be coloured by them)."""
    return st.session_state.get(FITTED) == space.key


def _default_k(space: Space) -> int:
    return min(max(len(space.classes), 2), 60)  # one component per class to start with


def cluster_k(space: Space) -> int | None:
    """The Clusters section's choice: None (by BIC) or the number of components."""
    if st.session_state.get("latent_bic"):
        return None
    return int(st.session_state.get("latent_k", _default_k(space)))


def _fit_clusters(key: str) -> None:
    st.session_state[FITTED] = key


def render_clusters(space: Space) -> None:
    """Components (or by BIC) and a Fit button; once fitted, the test scores, each cluster's
    size and name, the BIC curve, and true class against cluster name on test."""
    cols = st.columns([1, 1.2, 1, 2.8], vertical_alignment="bottom")
    by_bic = cols[1].checkbox("Choose by BIC", key="latent_bic",
                              help="Fits every number of components from 2 to 12 and keeps the one "
                                   "with the lowest BIC on the training codes (slower).")
    cols[0].number_input("Components", 2, 60, _default_k(space), key="latent_k", disabled=by_bic)
    cols[2].button("Fit clusters", key="latent_fit", on_click=_fit_clusters, args=(space.key,),
                   type="primary" if not clusters_on(space) else "secondary")
    st.caption("A Gaussian mixture on the training codes (reduced to at most 16 dimensions by PCA); "
               "each cluster is named by the majority class of the TRAINING codes in it, never by "
               "test labels, then scored on the test split.")
    if not clusters_on(space):
        return
    if not len(space.test):
        st.info("This dataset has no test split to score the clusters on.")
        return
    try:
        with st.spinner("Fitting the mixture" + (" for each number of components…" if by_bic
                                                 else "…")):
            c = clusters_of(space, cluster_k(space))
    except UserError as exc:
        st.error(plain(exc))
        return
    macro = c.report["macro avg"]
    for col, (label, value) in zip(st.columns(4), [
            ("accuracy", c.report["accuracy"]), ("macro precision", macro["precision"]),
            ("macro recall", macro["recall"]), ("macro F1", macro["f1-score"])]):
        col.metric(label, f"{value:.4f}")
    left, right = st.columns([1, 2])
    with left:
        st.dataframe(c.table(), hide_index=True)
        if by_bic:
            st.markdown(f"**BIC per number of components** (chose {c.n_components})")
            st.plotly_chart(bic_figure(c.bic, c.n_components), key="latent_bic_chart")
    with right:
        fig = confusion_figure(c.confusion, space.classes, normalized=False)
        fig.update_layout(xaxis_title="cluster, named as class", yaxis_title="true class (test)")
        st.plotly_chart(fig, key="latent_cluster_confusion")
