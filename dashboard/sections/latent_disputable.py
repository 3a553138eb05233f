"""Latent page: three notions of a doubtful test image side by side: about as close to another
class centre as to its own (core.latent.geometry), the lowest classifier margin, misclassified."""
from __future__ import annotations

import streamlit as st

from core.errors import UserError
from core.latent.geometry import margins
from dashboard.sections.latent_space import Space, show_grid
from dashboard.text import plain


def render_disputable(space: Space) -> None:
    """The rule, tolerance and classes to compare, then one tab per notion."""
    names = space.classes
    cols = st.columns([1, 2, 3])
    mode = cols[0].radio("Rule", ["ratio", "difference"], key="latent_rule",
                         help="ratio: |1 − d_own / d_other| < tol (scale-free). difference: "
                              "|d_own − d_other| < tol, in code units.")
    chosen = cols[2].multiselect("Classes", names, key="latent_dispute_classes",
                                 placeholder="all classes",
                                 help="Compare only these classes' centres, e.g. two of them.")
    chosen = chosen or names
    labels = space.labels
    if not len(space.test):
        st.info("This dataset has no test split, and disputable images are found on test.")
        return
    top = space.tolerance_max(mode)
    tol = cols[1].slider("Tolerance", 0.0, top, min(0.2, top), step=0.01, key=f"latent_tol_{mode}",
                         help="How close to equidistant an image must be; smaller finds fewer, more "
                              "truly ambiguous images" + (
                             "." if mode == "ratio" else ". The maximum is the median distance of "
                                                         "a test code to its own class centre."))
    try:
        rows, d = space.disputable_test([names.index(c) for c in chosen], tol, mode)
    except UserError as exc:
        st.error(plain(exc))
        return
    tabs = st.tabs(["Disputable (centre distances)", "Lowest classifier margin", "Misclassified"])
    with tabs[0]:
        st.caption(f"Test images of the chosen classes ({len(rows):,}) whose code is about as close "
                   "to another class centre (mean training code) as to their own, most disputable "
                   "first. Under each: id, own class: distance, nearest other class: distance.")
        show_grid(space.ds, rows[d.rows], lambda i, r: (
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
                   "first. Under each: id, true→predicted, margin (top-1 minus top-2).")
        margin = margins(proba)
        show_grid(space.ds, space.lowest_margin_test(), lambda i, r: (
            f"#{r}", f"{names[labels[r]]}→{names[predicted[r]]}", f"{margin[r]:.2f}"),
            "test images by margin")
    with tabs[2]:
        st.caption("Misclassified test images, most confident first. Under each: id, true→predicted, "
                   "probability.")
        show_grid(space.ds, space.misclassified_test(), lambda i, r: (
            f"#{r}", f"{names[labels[r]]}→{names[predicted[r]]}", f"{proba[r].max():.2f}"),
            "misclassified test images")
