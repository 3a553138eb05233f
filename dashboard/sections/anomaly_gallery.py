"""The Anomaly page's reconstruction gallery: most anomalous, closest to the threshold and wrong
test images (ranked in core), each as original | reconstruction | error map, labelled, one PNG
per gallery."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.anomaly.decisions import gallery_rows, outcome, reconstructions
from core.runs.results import checkpoint_key
from core.runs.store import Run
from dashboard.images import gallery_png, triptychs
from dashboard.sections.anomaly_inputs import Analysis

GALLERY = 8  # images per gallery
TILE = 56  # px on screen for the smallest images' sides: four triptychs of 8x8 digits to a row


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
    values, flags = an.values, an.a.is_anomaly
    labels = [f"{an.class_name(r)} · {values[r]:.4g} · {outcome(values[r], flags[r], threshold)}"
              for r in rows]
    st.image(gallery_png([pictures[int(r)] for r in rows], labels), width="content")


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
    pictures = dict(zip(shown.tolist(), triptychs(images, recon, err, min_side=TILE)))
    st.caption("Each picture: original | reconstruction | error map (per pixel, scaled to the "
               "image's largest error). Under it: class · score · TP/FP/TN/FN at this threshold.")
    for title, group in groups:
        _render_group(an, title, group, threshold, pictures)
