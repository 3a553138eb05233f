"""The Anomaly page's reconstruction gallery: most anomalous, closest to the threshold and wrong
test images (ranked in core), each as original | reconstruction | error map."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.anomaly.decisions import cell_rows, gallery_rows, outcome, reconstructions
from core.data.sampling import stratified
from core.runs.results import checkpoint_key
from core.runs.store import Run
from dashboard.images import display_width, triptychs
from dashboard.sections.anomaly_inputs import Analysis
from dashboard.text import plain

GALLERY = 8  # images per gallery
PER_ROW = 4  # gallery pictures per row, one column each


@st.cache_data(max_entries=64, show_spinner=False)
def _reconstruct(run_id: str, checkpoint: str, index: tuple[int, ...], _run: Run,
                 _images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return reconstructions(_run, _images)


def _render_group(an: Analysis, title: str, rows: np.ndarray, threshold: float,
                  pictures: dict[int, np.ndarray]) -> None:
    st.markdown(f"**{title}**")
    if len(rows) == 0:
        st.caption("No images here.")
        return
    _, h, w = an.ds.shape
    values, flags = an.values, an.a.is_anomaly

    def caption(r: int) -> str:
        return (f"{plain(an.class_name(r))} · {values[r]:.4g} · "
                f"{outcome(values[r], flags[r], threshold)}")

    for first in range(0, len(rows), PER_ROW):
        for col, r in zip(st.columns(PER_ROW), rows[first:first + PER_ROW]):
            col.image(pictures[int(r)], caption=caption(r), width=3 * display_width(h, w) + 8)


def render_gallery(an: Analysis, threshold: float) -> None:
    """Most anomalous, closest to the threshold, and wrong: one model call for all of them."""
    g = gallery_rows(an.test, an.values[an.test], an.a.is_anomaly[an.test], threshold, GALLERY)
    groups = [("Most anomalous", g.most_anomalous), ("Closest to the threshold", g.closest),
              (f"Wrong at this threshold ({g.n_false_positives:,} false alarms, "
               f"{g.n_false_negatives:,} missed; the most confident of each)", g.wrong)]
    shown = g.all()
    index = an.a.index[shown]
    images = an.ds.images[index]
    recon, err = _reconstruct(an.run.id, checkpoint_key(an.run), tuple(int(i) for i in index),
                              an.run, images)
    pictures = dict(zip(shown.tolist(), triptychs(images, recon, err)))
    st.caption("Each picture: original | reconstruction | error map (per pixel, scaled to the "
               "image's largest error). Caption: class · score · TP/FP/TN/FN at this threshold.")
    for title, group in groups:
        _render_group(an, title, group, threshold, pictures)


CELLS = {"TP": "anomalies caught (TP)", "FP": "false alarms (FP)", "TN": "normal images passed (TN)",
         "FN": "anomalies missed (FN)"}


def render_cell(an: Analysis, threshold: float, cell: str) -> None:
    """The images of the matrix cell clicked last, at this threshold: an equal share of each
    class in it, the most clear-cut first."""
    test = an.test
    rows = cell_rows(test, an.values[test], an.a.is_anomaly[test], threshold, cell)
    picked = stratified(rows, an.a.labels[rows], GALLERY)
    title = f"Selected cell: {CELLS[cell]}, {len(rows):,} images"
    if len(rows) > len(picked):
        title += f"; showing {len(picked)}, an equal share of each class, the clearest first"
    index = an.a.index[picked]
    images = an.ds.images[index]
    recon, err = _reconstruct(an.run.id, checkpoint_key(an.run), tuple(int(i) for i in index),
                              an.run, images) if len(picked) else (images, images)
    _render_group(an, title, picked, threshold, dict(zip(picked.tolist(),
                                                           triptychs(images, recon, err))))
