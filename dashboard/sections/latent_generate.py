"""Latent page: images decoded on the line between two class centres (core.latent.generation),
with what a classifier trained on the same dataset makes of each."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.errors import UserError
from core.latent.generation import decode_between
from core.models import Kind
from core.training.config import run_config
from dashboard.figures import interpolation_figure
from dashboard.images import display_width, strip_png, to_display
from dashboard.sections.latent_space import Space, lines
from dashboard.text import plain
from dashboard.widgets.run_picker import runs_of_kind

NO_CLASSIFIER = "not a classifier"


def render_generation(space: Space) -> None:
    """Two classes, the number of steps and a judging classifier; the strip, the classifier's
    probabilities along it, and the most ambiguous images (downloadable)."""
    if not space.features.kind.has_decoder:
        st.info(f"{space.run.name()} is a {space.features.kind}, and generating needs a decoder: "
                "pick an autoencoder or VAE run above.")
        return
    names = space.classes
    cols = st.columns([1, 1, 2, 3])
    a = cols[0].selectbox("From class", names, index=0, key="latent_gen_a")
    b = cols[1].selectbox("To class", names, index=min(1, len(names) - 1), key="latent_gen_b")
    steps = cols[2].slider("Steps", 5, 21, 11, key="latent_gen_steps")
    dataset = run_config(space.run).dataset
    judges = {r.id: r for r in runs_of_kind(Kind.classifiers()) if run_config(r).dataset == dataset}
    options = list(judges) + [NO_CLASSIFIER]
    judge = cols[3].selectbox("Classifier that judges the images", options, key="latent_gen_clf",
                              format_func=lambda i: "none" if i == NO_CLASSIFIER else judges[i].name(),
                              help="Classifier runs trained on the same dataset")
    train = space.train
    try:
        with st.spinner("Decoding…"):
            strip = decode_between(space.run, space.features.codes[train], space.labels[train],
                                   len(names), names.index(a), names.index(b), steps,
                                   judges.get(judge))
    except UserError as exc:
        st.error(plain(exc))
        return
    ia, ib = names.index(a), names.index(b)
    _, h, w = space.ds.shape
    if strip.proba is None:
        caps = [f"t {t:.2f}" for t in strip.t]
    else:
        caps = [lines(f"t {t:.2f}", f"{a}: {p[ia]:.2f}", f"{b}: {p[ib]:.2f}")
                for t, p in zip(strip.t, strip.proba)]
    st.caption(f"Decoded points on the straight line from the centre of {a} to the centre of {b} "
               "(mean training codes), both ends included.")
    st.image(to_display(strip.images), caption=caps, width=display_width(h, w))
    if strip.proba is None:
        st.caption("Choose a classifier to see what it makes of each image.")
        return
    st.plotly_chart(interpolation_figure(strip.t, strip.proba[:, ia], strip.proba[:, ib], a, b,
                                         strip.ambiguous), key="latent_gen_chart")
    st.markdown(f"**Most ambiguous**: the generated images whose P({a}) and P({b}) are closest")
    amb = strip.ambiguous
    st.image(to_display(strip.images[amb]), caption=[caps[i] for i in amb], width=display_width(h, w))
    st.download_button("Download the ambiguous images (PNG)", strip_png(strip.images[amb]),
                       f"{space.run.id}-{a}-{b}-ambiguous.png", "image/png", key="latent_gen_png")
    with st.expander("Probabilities as a table"):
        st.dataframe(pd.DataFrame({"t": strip.t, f"P({a})": strip.proba[:, ia],
                                   f"P({b})": strip.proba[:, ib],
                                   "most ambiguous": np.isin(np.arange(steps), amb)}),
                     hide_index=True, key="latent_gen_table")
