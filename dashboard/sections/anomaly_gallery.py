"""The Anomaly page's reconstruction galleries: the matrix cell clicked last, and the most
anomalous, closest to the threshold and wrong test images (ranked in core), each as original |
reconstruction | error map, labelled, one PNG per gallery."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.anomaly.decisions import cell_rows, gallery_rows, outcome, reconstructions
from core.data.sampling import stratified
from core.runs.results import checkpoint_key
from dashboard.images import gallery_png, triptychs
from dashboard.sections.anomaly_inputs import Analysis
from dashboard.text import count

GALLERY = 8  # images per gallery
TILE = 56  # px on screen for the smallest images' sides: four triptychs of 8x8 digits to a row
AHEAD_BYTES = 64 * 2**20  # the whole test view is reconstructed at once when this holds it
CHUNK = 1_024  # images per model call while the progress bar follows


@st.cache_resource(max_entries=4, show_spinner=False)
def _reconstructed(run_id: str, checkpoint: str) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """(reconstruction, error map) by dataset index, shared by sessions."""
    return {}


def _reconstruct_missing(an: Analysis, index: np.ndarray) -> None:
    """Put the images the galleries need through the model, if they have not been: the first time,
    the whole test view in batched passes (when it fits AHEAD_BYTES) with a progress bar, so a
    committed threshold does not wait for the model."""
    kept = _reconstructed(an.run.id, checkpoint_key(an.run))
    if kept.keys() >= {int(i) for i in index}:
        return
    view = an.a.index[an.test]
    ahead = view if len(view) * an.ds.images[0].size * 2 <= AHEAD_BYTES else []
    todo = sorted({int(i) for i in (*ahead, *index)} - kept.keys())
    bar = st.progress(0.0) if len(todo) > CHUNK else None
    for first in range(0, len(todo), CHUNK):
        part = todo[first:first + CHUNK]
        recon, err = reconstructions(an.run, an.ds.images[part])
        kept.update(zip(part, zip(recon, err)))
        if bar is not None:
            done = first + len(part)
            bar.progress(done / len(todo), text=f"Reconstructing the test images (once per run): "
                                                f"{done:,} of {len(todo):,}")
    if bar is not None:
        bar.empty()


def _pictures(an: Analysis, index: np.ndarray) -> list[np.ndarray]:
    """Triptychs of dataset images already reconstructed (draws nothing: called when cached)."""
    kept = _reconstructed(an.run.id, checkpoint_key(an.run))
    index = [int(i) for i in index]
    recon = np.stack([kept[i][0] for i in index])
    err = np.stack([kept[i][1] for i in index])
    return triptychs(an.ds.images[index], recon, err, min_side=TILE)


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
                   lambda: _pictures(an, index))
    st.image(png, width="content")


def render_gallery(an: Analysis, threshold: float) -> None:
    """Most anomalous, closest to the threshold, and wrong at it, labelled with their outcome."""
    g = gallery_rows(an.test, an.values[an.test], an.a.is_anomaly[an.test], threshold, GALLERY)
    groups = [("Most anomalous", g.most_anomalous), ("Closest to the threshold", g.closest),
              (f"Wrong at this threshold ({g.n_false_positives:,} false alarms, "
               f"{g.n_false_negatives:,} missed; the most confident of each)", g.wrong)]
    st.caption("Each picture: original | reconstruction | error map (per pixel, scaled to the "
               "image's largest error). Under it: class · score · TP/FP/TN/FN at this threshold.")
    _reconstruct_missing(an, an.a.index[g.all()])
    for title, group in groups:
        _render_group(an, title, group, threshold)


CELLS = {"TP": "anomalies caught (TP)", "FP": "false alarms (FP)", "TN": "normal images passed (TN)",
         "FN": "anomalies missed (FN)"}


def render_cell(an: Analysis, threshold: float, cell: str) -> None:
    """The images of the matrix cell clicked last, at this threshold: an equal share of each
    class in it, the most clear-cut first."""
    test = an.test
    rows = cell_rows(test, an.values[test], an.a.is_anomaly[test], threshold, cell)
    picked = stratified(rows, an.a.labels[rows], GALLERY)
    title = f"Selected cell: {CELLS[cell]}, {count(len(rows), 'image')}"
    if len(rows) > len(picked):
        title += f"; showing {len(picked)}, an equal share of each class, the clearest first"
    _reconstruct_missing(an, an.a.index[picked])
    _render_group(an, title, picked, threshold)
