"""The Anomaly page's reconstruction galleries: the matrix cell clicked last, and the most
anomalous, closest to the threshold and wrong test images (ranked in core), each as original |
reconstruction | error map, labelled, one PNG per gallery. Reconstructions are read from the
scores (core.anomaly.scores computes them in the same pass and caches them): the page never runs
the model."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.anomaly.decisions import Cell, cell_rows, gallery_rows, outcome
from core.data.sampling import stratified
from core.runs.results import checkpoint_key
from dashboard.images import gallery_png, triptychs
from dashboard.sections.anomaly_inputs import Analysis
from dashboard.text import count

GALLERY = 8  # images per gallery
TILE = 56  # px on screen for the smallest images' sides: four triptychs of 8x8 digits to a row


def _pictures(an: Analysis, rows: np.ndarray) -> list[np.ndarray]:
    """Triptychs of rows of the scores: the reconstructions and error maps were computed in core
    with the scores and cached with them, so the page only reads (no model in this thread)."""
    rows = np.asarray(rows)
    return triptychs(an.ds.images[an.a.index[rows]], an.a.recon[rows], an.a.err[rows], min_side=TILE)


@st.cache_data(max_entries=64, show_spinner=False)
def _gallery(run_id: str, checkpoint: str, index: tuple[int, ...], labels: tuple[str, ...],
             _pictures) -> bytes:
    """One PNG per gallery, from _pictures(); one the threshold did not change is not drawn
    or encoded again."""
    return gallery_png(_pictures(), list(labels))


def _render_group(an: Analysis, title: str, rows: np.ndarray, threshold: float) -> None:
    st.markdown(f"**{title}**")
    if len(rows) == 0:
        st.caption("No images here.")
        return
    values, flags = an.values, an.a.is_anomaly
    labels = tuple(f"{an.class_name(r)} · {values[r]:.4g} · "
                   f"{outcome(values[r], flags[r], threshold)}" for r in rows)
    index = an.a.index[rows]
    png = _gallery(an.run.id, checkpoint_key(an.run), tuple(int(i) for i in index), labels,
                   lambda: _pictures(an, rows))
    st.image(png, width="content")


def render_gallery(an: Analysis, threshold: float) -> None:
    """Most anomalous, closest to the threshold, and wrong at it, labelled with their outcome."""
    g = gallery_rows(an.test, an.values[an.test], an.a.is_anomaly[an.test], threshold, GALLERY)
    groups = [("Most anomalous", g.most_anomalous), ("Closest to the threshold", g.closest),
              (f"Wrong at this threshold ({g.n_false_positives:,} false alarms, "
               f"{g.n_false_negatives:,} missed; the most confident of each)", g.wrong)]
    st.caption("Each picture: original | reconstruction | error map (per pixel, scaled to the "
               "image's largest error). Under it: class · score · TP/FP/TN/FN at this threshold.")
    for title, group in groups:
        _render_group(an, title, group, threshold)


CELLS = {Cell.TP: "anomalies caught (TP)", Cell.FP: "false alarms (FP)",
         Cell.TN: "normal images passed (TN)", Cell.FN: "anomalies missed (FN)"}


def render_cell(an: Analysis, threshold: float, cell: str) -> None:
    """The images of the matrix cell clicked last, at this threshold: an equal share of each
    class in it, the most clear-cut first."""
    test = an.test
    rows = cell_rows(test, an.values[test], an.a.is_anomaly[test], threshold, cell)
    picked = stratified(rows, an.a.labels[rows], GALLERY)
    title = f"Selected cell: {CELLS[cell]}, {count(len(rows), 'image')}"
    if len(rows) > len(picked):
        title += f"; showing {len(picked)}, an equal share of each class, the clearest first"
    _render_group(an, title, picked, threshold)
