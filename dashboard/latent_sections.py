"""Latent page sections that stand apart from the map: disputable images (with the lowest-margin
and misclassified ones beside them) and images generated between two class centres."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import streamlit as st

from core.data.dataset import ImageDataset
from core.errors import UserError
from core.latent.generation import decode_between
from core.models import Kind
from core.latent.geometry import disputable, lowest_margin
from dashboard.figures import interpolation_figure
from dashboard.images import display_width, to_display
from dashboard.latent_views import GALLERY, NO_CLASSIFIER, Space, lines
from dashboard.widgets.run_picker import runs_of_kind


# -- disputable, lowest margin, misclassified ---------------------------------------------------
def _grid(ds: ImageDataset, rows: np.ndarray, caption, what: str) -> None:
    """Up to GALLERY images of dataset rows, captioned by caption(i, row) for the i-th shown."""
    if len(rows) == 0:
        st.caption(f"No {what}.")
        return
    more = f"; showing the first {GALLERY}" if len(rows) > GALLERY else ""
    st.markdown(f"**{len(rows):,}** {what}{more}")
    rows = rows[:GALLERY]
    _, h, w = ds.shape
    st.image(to_display(ds.images[rows]), caption=[caption(i, r) for i, r in enumerate(rows)],
             width=display_width(h, w))


def disputable_ui(space: Space) -> None:
    """Three notions of a doubtful test image side by side: centre distances, classifier margin,
    misclassification."""
    names = space.classes
    cols = st.columns([1, 2, 3])
    mode = cols[0].radio("Rule", ["ratio", "difference"], key="latent_rule",
                         help="ratio: |1 − d_own / d_other| < tol (scale-free). difference: "
                              "|d_own − d_other| < tol, in code units (the clocks/crocodiles rule).")
    chosen = cols[2].multiselect("Classes", names, key="latent_dispute_classes",
                                 placeholder="all classes",
                                 help="Compare only these classes' centres, e.g. two of them.")
    chosen = chosen or names
    test, labels = space.test, space.labels
    if not len(test):
        st.info("This dataset has no test split, and disputable images are found on test.")
        return
    if mode == "ratio":
        top = 1.0
    else:  # in code units: up to the median distance of a test code to its own centre
        top = max(round(float(np.median(space.own_distance[test])), 2), 0.25)
    tol = cols[1].slider("Tolerance", 0.0, top, min(0.2, top), step=0.01, key=f"latent_tol_{mode}",
                         help="0.2 was the clocks/crocodiles project's value" + (
                             "" if mode == "ratio" else "; the maximum is the median distance of "
                                                        "a test code to its own class centre"))
    ids = [names.index(c) for c in chosen]
    rows = test[np.isin(labels[test], ids)]
    centres = space.centres.copy()
    centres[[c for c in range(len(names)) if c not in ids]] = np.nan
    try:
        d = disputable(space.features.codes[rows], labels[rows], centres, tol, mode)
    except UserError as exc:
        st.error(str(exc))
        return
    tabs = st.tabs(["Disputable (centre distances)", "Lowest classifier margin", "Misclassified"])
    with tabs[0]:
        st.caption(f"Test images of the chosen classes ({len(rows):,}) whose code is about as close "
                   "to another class centre (mean training code) as to their own, most disputable "
                   "first. Caption: id, own class: distance, nearest other class: distance.")
        _grid(space.ds, rows[d.rows], lambda i, r: lines(
            f"#{r}", f"{names[labels[r]]}: {d.own[d.rows[i]]:.2f}",
            f"{names[d.other_class[d.rows[i]]]}: {d.other[d.rows[i]]:.2f}"), "disputable test images")
    if not space.classifier:
        for tab in tabs[1:]:
            tab.info("This needs a classifier: pick a classifier run above to compare the three "
                     "notions of a doubtful image.")
        return
    proba, predicted = space.features.proba, space.predicted
    with tabs[1]:
        st.caption("Test images whose two highest class probabilities are closest, smallest margin "
                   "first. Caption: id, true→predicted, margin (top-1 minus top-2).")
        top2 = np.sort(proba, 1)[:, -2:]
        _grid(space.ds, test[lowest_margin(proba[test])], lambda i, r: lines(
            f"#{r}", f"{names[labels[r]]}→{names[predicted[r]]}", f"{top2[r, 1] - top2[r, 0]:.2f}"),
            "test images by margin")
    with tabs[2]:
        wrong = test[predicted[test] != labels[test]]
        wrong = wrong[np.argsort(-proba[wrong].max(1), kind="stable")]
        st.caption("Misclassified test images, most confident first. Caption: id, true→predicted, "
                   "probability.")
        _grid(space.ds, wrong, lambda i, r: lines(f"#{r}", f"{names[labels[r]]}→{names[predicted[r]]}",
                                                  f"{proba[r].max():.2f}"), "misclassified test images")


# -- generation -----------------------------------------------------------------------------
def strip_png(images: np.ndarray, gap: int = 4) -> bytes:
    """A row of images (N, C, H, W) uint8, upscaled for viewing, as one PNG."""
    from PIL import Image

    tiles = to_display(images)
    h, w = tiles[0].shape[:2]
    rgb = tiles[0].ndim == 3
    canvas = np.full((h, len(tiles) * (w + gap) - gap) + ((3,) if rgb else ()), 255, np.uint8)
    for i, tile in enumerate(tiles):
        canvas[:, i * (w + gap): i * (w + gap) + w] = tile
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, format="PNG")
    return buf.getvalue()


def generate_ui(space: Space) -> None:
    if space.classifier:
        st.info(f"{space.run.name()} is a classifier, and generating needs a decoder: pick an "
                "autoencoder or VAE run above.")
        return
    names = space.classes
    cols = st.columns([1, 1, 2, 3])
    a = cols[0].selectbox("From class", names, index=0, key="latent_gen_a")
    b = cols[1].selectbox("To class", names, index=min(1, len(names) - 1), key="latent_gen_b")
    steps = cols[2].slider("Steps", 5, 21, 11, key="latent_gen_steps")
    dataset = space.run.config().dataset
    judges = {r.id: r for r in runs_of_kind(Kind.classifiers()) if r.config().dataset == dataset}
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
        st.error(str(exc))
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
