"""What the Predict page shows of a result: the share flagged, the new scores against the test
split's (drift at a glance), a sorted gallery (original | reconstruction | error map for
autoencoders), every image in a table, and the CSV and bundle downloads."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.anomaly.decisions import reconstructions
from core.errors import UserError
from core.predict.detector import RunDetector
from core.predict.export import bundle_zip
from core.predict.inputs import NewImages
from core.predict.result import PredictResult, SortOrder
from core.runs.results import checkpoint_key
from core.runs.store import Run
from dashboard.figures import drift_histogram_figure
from dashboard.images import display_width, framed, gallery_columns, to_display, triptychs
from dashboard.sections.predict_inputs import plain
from dashboard.state import settings
from dashboard.text import count

SHOWN = (12, 24, 48)


def render_summary(result: PredictResult) -> None:
    n, t = len(result.scored), result.threshold
    cols = st.columns(4)
    cols[0].metric("Images scored", f"{n:,}")
    cols[1].metric("Left out", f"{len(result.errors):,}")
    if result.kind.has_decoder:
        k = result.flagged()
        cols[2].metric("Flagged as anomalies", f"{k:,}")
        cols[3].metric("Share flagged", f"{k / n:.1%}" if n else "n/a")
    else:
        counts = result.counts()
        top = max(counts, key=counts.get) if counts else "n/a"
        cols[2].metric("Most predicted class", plain(top))
        cols[3].metric("Classes predicted", f"{len(counts):,}")
    st.caption(plain(f"Threshold: {t.detail}."))
    for warning in result.warnings:
        st.warning(plain(warning))
    if result.errors:
        with st.expander(f"{count(len(result.errors), 'file')} left out, and why"):
            st.dataframe({"file": [result.names[r] for r in result.errors],
                          "reason": list(result.errors.values())}, hide_index=True)


def render_drift(detector: RunDetector, result: PredictResult) -> None:
    """The new scores' distribution next to the test split's, normal and anomalous apart."""
    if not result.kind.has_decoder:
        return
    score = result.threshold.score
    try:
        test, is_anomaly = detector.reference_scores(score, "test")
    except UserError as exc:
        st.info(plain(f"No test scores to compare with: {exc}"))
        return
    reference = {"test normal": test[~is_anomaly], "test anomaly": test[is_anomaly]}
    st.plotly_chart(drift_histogram_figure(reference, result.values[result.scored],
                                           result.threshold.value, score), key="predict_drift")
    st.caption("Each group as a share of its own images: new images far from the test split's "
               "normal scores were not like the images the threshold was tuned for.")


@st.cache_data(max_entries=32, show_spinner=False)
def _reconstruct(run_id: str, checkpoint: str, names: tuple[str, ...], _run: Run,
                 _images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return reconstructions(_run, _images)


def _order_labels(decoder: bool) -> dict[SortOrder, str]:
    high, low = ("most anomalous first", "least anomalous first") if decoder else (
        "most confident first", "least confident first")
    return {SortOrder.HIGHEST: high, SortOrder.LOWEST: low, SortOrder.NAME: "file name"}


def render_gallery(run: Run, detector: RunDetector, result: PredictResult,
                   images: NewImages) -> None:
    """The images in the chosen order, read again from their files (a result keeps numbers only)."""
    cols = st.columns([3, 1])
    labels = _order_labels(result.kind.has_decoder)
    order = cols[0].radio("Order", list(labels), horizontal=True, key="predict_order",
                          format_func=labels.get)
    count = cols[1].selectbox("Show", SHOWN, key="predict_shown")
    batch = images.read(result.order(order)[:count], detector.recipe)
    if not len(batch.rows):
        st.caption("No images to show.")
        return
    values, decisions = result.ranking_values(), result.decisions()
    _, h, w = detector.recipe.in_shape
    if result.kind.has_decoder:
        names = tuple(result.names[r] for r in batch.rows)
        recon, err = _reconstruct(run.id, checkpoint_key(run), names, run, batch.images)
        pictures, width = triptychs(batch.images, recon, err), 3 * display_width(h, w) + 8 + 2
        st.caption("Each picture: image | reconstruction | error map (per pixel, scaled to the "
                   "image's largest error). Caption: file · score · decision.")
    else:
        pictures, width = to_display(batch.images), display_width(h, w) + 2
        st.caption("Caption: file · predicted class · its probability.")
    rows, pictures = list(batch.rows), framed(pictures)
    per_row, width = gallery_columns(width)
    for first in range(0, len(rows), per_row):
        for col, r, picture in zip(st.columns(per_row), rows[first:first + per_row],
                                   pictures[first:first + per_row]):
            col.image(picture, width=width,
                      caption=plain(f"{result.names[r]} · {values[r]:.4g} · {decisions[r]}"))


def render_table(result: PredictResult) -> None:
    st.dataframe(result.frame(), hide_index=True, key="predict_table")
    st.caption("Click a column to sort. Files left out have no score and say why.")


def render_downloads(run: Run, detector: RunDetector, result: PredictResult) -> None:
    cols = st.columns(2)
    cols[0].download_button("Decisions (CSV)", result.frame().to_csv(index=False).encode(),
                            f"{run.id}-predictions.csv", "text/csv", key="predict_csv",
                            on_click="ignore")
    if detector.kind.has_decoder and not detector.normal_classes:
        cols[1].caption("No bundle: this run has no normal classes to export thresholds for.")
        return
    workspace = settings()
    cols[1].download_button("Bundle for another machine (.zip)",
                            lambda: bundle_zip(run, workspace), f"{run.id}-bundle.zip",
                            "application/zip", key="predict_bundle", on_click="ignore",
                            help="The model as TorchScript, its preprocessing, scores and saved "
                                 "thresholds, with checksums: `python -m core predict "
                                 "BUNDLE.zip FOLDER` applies it without the run folder.")
