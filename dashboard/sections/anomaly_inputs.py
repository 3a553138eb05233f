"""The Anomaly page's inputs: score, test view and normal classes (kept per run in the session
model, seeded from the link the first time), the scores of a run, and the `Analysis` every later
section draws from."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.anomaly.decisions import View, threshold_bounds, view_rows
from core.anomaly.scores import AnomalyScores, compute_scores, score_names
from core.anomaly.strategies import FittedThreshold, fit_all, offered_strategies
from core.data.dataset import ImageDataset
from core.errors import UserError
from core.evaluation.sweep import ThresholdSweep
from core.models import Kind
from core.runs.store import Run
from core.training.config import run_config
from dashboard import presentation, state, url
from dashboard.state import settings
from dashboard.text import plain

VIEWS = {**{view: str(view) for view in View}, View.IMBALANCED: f"{View.IMBALANCED} (3% anomalies)"}


def score_ui(kind: Kind, run: Run) -> str:
    """The score to threshold, the run's own choice (the link's the first time, else mse); in
    the URL."""
    names = score_names(kind)
    linked = url.take("score")
    score = state.bound(st.selectbox, "anomaly_score", state.keyed("anomaly.score", run.id),
                        "Score", list(names), default=linked if linked in names else "mse",
                        valid=lambda v: v in names)
    if not presentation.on():  # a class sees the panel instead
        st.caption(names[score][0].upper() + names[score][1:] + "; higher means more anomalous.")
    url.show(score=score)
    return score


def view_ui() -> str:
    """The test view: as is, balanced or imbalanced; in the URL unless it is "as is"."""
    linked = url.take("view")
    view = state.bound(st.radio, "anomaly_view", "anomaly.view", "Test set", list(VIEWS),
                       default=linked if linked in VIEWS else View.AS_IS, valid=lambda v: v in VIEWS,
                       horizontal=True, format_func=VIEWS.get)
    if not presentation.on():
        st.caption("Balanced: as many normal test images as anomalies. Imbalanced: every normal image "
                   "and anomalies subsampled to 3% (rare, as in production). Fixed seed.")
    url.show(view=None if view == View.AS_IS else str(view))
    return view


def normal_classes_or_stop(run: Run, ds: ImageDataset) -> tuple[str, ...]:
    """The normal classes, the run's own choice (its training classes by default, the link's the
    first time); stops the page until at least one is chosen."""
    own = tuple(c for c in run_config(run).normal_classes if c in ds.classes)
    linked = [c for c in (url.take("normal") or "").split(",") if c in ds.classes]
    normal = tuple(state.bound(
        st.multiselect, "anomaly_normal", state.keyed("anomaly.normal", run.id),
        "Normal classes (the rest are anomalies)", list(ds.classes), default=linked or list(own),
        valid=lambda v: isinstance(v, list) and all(c in ds.classes for c in v)))
    url.show(normal=",".join(normal) if normal and normal != own else None)
    if not normal:
        st.info(f"{plain(run.name())} was trained on every class: choose which classes are "
                "normal; the others become the anomalies." if not own else
                "Choose at least one normal class.")
        st.stop()
    return normal


def compute_scores_or_stop(run: Run, ds: ImageDataset, normal: tuple[str, ...]) -> AnomalyScores:
    """Every score of the val and test images (cached with the run); a user error stops the page."""
    try:
        with st.spinner("Scoring validation and test images (once per run and normal classes; "
                        "cached with the run)…"):
            scores = compute_scores(run, settings(), normal, ds)
    except UserError as exc:
        st.error(plain(exc))
        st.stop()
    if not scores.trained_on_normal_only:
        seen = ", ".join(plain(c) for c in scores.view.anomaly_classes)
        st.warning(f"{plain(run.name())} saw the anomaly classes ({seen}) in training: it learned to "
                   "reconstruct them too, so these scores understate how anomalous they look. "
                   "Train on the normal classes only for an honest detector.")
    return scores


@dataclass
class Analysis:
    """One run, score and test view: the rows and sweeps every section draws from."""

    run: Run
    ds: ImageDataset
    a: AnomalyScores
    score: str
    val: np.ndarray  # rows of a: every validation image
    test: np.ndarray  # rows of a: the test images in the chosen view
    sweep: ThresholdSweep  # on the test rows
    strategies: dict[str, FittedThreshold]  # fitted on the val rows
    bounds: tuple[float, float]  # of the threshold slider

    @property
    def values(self) -> np.ndarray:
        return self.a.scores[self.score]

    def class_name(self, row: int) -> str:
        return str(self.ds.classes[int(self.a.labels[row])])


def _test_rows(a: AnomalyScores, view: str) -> np.ndarray:
    test = a.part("test")
    flags = a.is_anomaly[test]
    if view != View.AS_IS and not (flags.any() and (~flags).any()):
        st.info(f"The {view} view needs both normal and anomalous test images; showing the test "
                "split as is.")
        return test
    return test[view_rows(flags, view, seed=0)]


@st.cache_data(max_entries=32, show_spinner=False)
def _fit_all(val_scores: np.ndarray, val_is_anomaly: np.ndarray,
             names: tuple[str, ...]) -> dict[str, FittedThreshold]:
    return fit_all(val_scores, val_is_anomaly, names)  # names in the key: a new strategy refits


def analyse_or_stop(run: Run, ds: ImageDataset, a: AnomalyScores, score: str,
                    view: str) -> Analysis:
    """Rows and sweeps for the page; a sweep the scores cannot support stops it with the reason."""
    test = _test_rows(a, view)
    val = a.part("val")
    values = a.scores[score]
    try:
        sweep = ThresholdSweep(values[test], a.is_anomaly[test])
    except UserError as exc:
        st.error(f"Cannot threshold the {score} scores: {plain(exc)}")
        st.stop()
    strategies = _fit_all(values[val], a.is_anomaly[val], offered_strategies())
    return Analysis(run, ds, a, score, val, test, sweep, strategies,
                    threshold_bounds(values, strategies))
