"""What follows a chosen threshold: test views, the slider's range and default, decisions per
image (TP/FP/TN/FN, the CSV export), the galleries' rankings, the saved threshold record, and
reconstructions for the galleries."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.anomaly.outcomes import Cell, View  # noqa: F401 (offered here too)
from core.anomaly.record import Lookup, ThresholdRecord, find_record
from core.errors import UserError
from core.runs.results import cache_dir
from core.runs.store import Run
from core.settings import Settings

SavedThreshold = ThresholdRecord  # the name importers used before the record had its module

if TYPE_CHECKING:
    from core.anomaly.scores import AnomalyScores
    from core.anomaly.strategies import FittedThreshold


def view_rows(is_anomaly: np.ndarray, view: str, seed: int = 0,
              anomaly_share: float = 0.03) -> np.ndarray:
    """Rows of a test set as is, balanced (equal counts) or imbalanced (3% anomalies, as the
    cracks project's 970/30 set): subsampled with a fixed seed, so every view is repeatable."""
    rng = np.random.default_rng(seed)
    normal, anomalous = np.flatnonzero(~is_anomaly), np.flatnonzero(is_anomaly)
    if view == View.AS_IS:
        return np.arange(len(is_anomaly))
    if view == View.BALANCED:
        n = min(len(normal), len(anomalous))
        return np.sort(np.concatenate([rng.permutation(normal)[:n], rng.permutation(anomalous)[:n]]))
    if view == View.IMBALANCED:
        n_anomalies = max(1, int(round(anomaly_share / (1 - anomaly_share) * len(normal))))
        return np.sort(np.concatenate([normal, rng.permutation(anomalous)[:n_anomalies]]))
    raise UserError(f"unknown test view {view!r}: {', '.join(View)}")


# -- the threshold's range and default ----------------------------------------------------------
def threshold_bounds(scores: np.ndarray, fitted: dict[str, FittedThreshold]) -> tuple[float, float]:
    """(low, high) for a threshold slider: the finite scores' range, stretched up to every fitted
    threshold so that each strategy's value can be shown."""
    finite = np.asarray(scores, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        raise UserError("no finite scores to set a threshold on")
    thresholds = [f.threshold for f in fitted.values() if f.threshold is not None]
    return float(finite.min()), float(max([finite.max(), *thresholds]))


def default_threshold(fitted: dict[str, FittedThreshold], saved: SavedThreshold | None,
                      test_scores: np.ndarray) -> tuple[float, str]:
    """(threshold, where from): a saved one, else max F1 on val, else the 99th percentile of the
    normal val scores, else the median test score (by hand: "manual")."""
    if saved is not None:
        return saved.value, saved.strategy
    for name in ("f1", "percentile=99"):
        if name in fitted and fitted[name].threshold is not None:
            return fitted[name].threshold, name
    return float(np.median(test_scores)), "manual"


# -- decisions per image -----------------------------------------------------------------------
def outcome(score: float, is_anomaly: bool, threshold: float) -> Cell:
    """TP, FP, TN or FN: an image scoring at or above the threshold is called an anomaly."""
    called = score >= threshold
    if is_anomaly:
        return Cell.TP if called else Cell.FN
    return Cell.FP if called else Cell.TN


def decisions_frame(a: AnomalyScores, score: str, threshold: float, classes,
                    files: Sequence[str] | None = None) -> pd.DataFrame:
    """Every validation and test image (val first): dataset index, its file (where the dataset
    has files, e.g. a folder: what a user finds an image by), split, class, whether it is an
    anomaly, its score and the decision at the threshold. The page's CSV export."""
    rows = np.concatenate([a.part("val"), a.part("test")])
    values = a.scores[score][rows]
    names = np.asarray([str(c) for c in classes], dtype=object)
    table = {"index": a.index[rows]}
    if files is not None:
        table["file"] = np.asarray(files, dtype=object)[a.index[rows]]
    return pd.DataFrame({**table, "split": a.split[rows], "class": names[a.labels[rows].astype(int)],
                         "is_anomaly": a.is_anomaly[rows], score: values,
                         "decision": np.where(values >= threshold, "anomaly", "normal")})


@dataclass
class GalleryRows:
    """The galleries under the threshold, as rows of the scores (each group in display order)."""

    most_anomalous: np.ndarray
    closest: np.ndarray  # closest to the threshold, on either side
    wrong: np.ndarray  # the most confident false positives, then false negatives
    n_false_positives: int  # at this threshold, of which `wrong` shows the most confident
    n_false_negatives: int

    def all(self) -> np.ndarray:
        """Every row shown, once, sorted: what needs a reconstruction."""
        return np.unique(np.concatenate([self.most_anomalous, self.closest, self.wrong]))


def gallery_rows(rows: np.ndarray, scores: np.ndarray, is_anomaly: np.ndarray, threshold: float,
                 size: int = 8) -> GalleryRows:
    """Up to `size` rows per gallery from `rows` (scores and is_anomaly aligned with them): the
    highest scores, the scores closest to the threshold, and the mistakes farthest from it, at
    least half of them false positives when there are enough (ties keep the order of rows)."""
    rows = np.asarray(rows)
    scores = np.asarray(scores, dtype=float)
    truth = np.asarray(is_anomaly, dtype=bool)
    called = scores >= threshold
    margin = np.abs(scores - threshold)
    fp = rows[called & ~truth][np.argsort(-margin[called & ~truth], kind="stable")]
    fn = rows[~called & truth][np.argsort(-margin[~called & truth], kind="stable")]
    n_fp = min(len(fp), max(size // 2, size - len(fn)))
    return GalleryRows(most_anomalous=rows[np.argsort(-scores, kind="stable")[:size]],
                       closest=rows[np.argsort(margin, kind="stable")[:size]],
                       wrong=np.concatenate([fp[:n_fp], fn[:size - n_fp]]).astype(int),
                       n_false_positives=len(fp), n_false_negatives=len(fn))


def cell_rows(rows: np.ndarray, scores: np.ndarray, is_anomaly: np.ndarray, threshold: float,
              cell: str) -> np.ndarray:
    """The rows of one confusion-matrix cell ("TP", "FP", "TN" or "FN") at the threshold, the
    most clear-cut first (farthest from the threshold)."""
    rows, scores = np.asarray(rows), np.asarray(scores, dtype=float)
    truth, called = np.asarray(is_anomaly, dtype=bool), scores >= threshold
    masks = {Cell.TP: called & truth, Cell.FP: called & ~truth, Cell.TN: ~called & ~truth,
             Cell.FN: ~called & truth}
    if cell not in masks:
        raise UserError(f"unknown cell {cell!r}: {', '.join(Cell)}")
    mask = masks[cell]
    return rows[mask][np.argsort(-np.abs(scores[mask] - threshold), kind="stable")]


# -- the saved threshold (core.anomaly.record) ---------------------------------------------------
def saved_threshold_path(run: Run, settings: Settings, score: str) -> Path:
    """Where a run's saved threshold for one score is written (shipped runs: in the workspace)."""
    return cache_dir(run, settings) / f"threshold-{score}.json"


def record_paths(run: Run, settings: Settings, score: str) -> list[Path]:
    """Where a run's record for a score is looked for, most specific first: one saved in the
    workspace (the page, the CLI), then one shipped in the run folder (python -m core ship)."""
    paths = [saved_threshold_path(run, settings, score)]
    if run.read_only:
        paths.append(run.path / f"threshold-{score}.json")
    return paths


def lookup_threshold(run: Run, settings: Settings, score: str, normal_classes) -> Lookup:
    """The run's saved record for this score and normal classes, or why none applies."""
    return find_record(record_paths(run, settings, score), score, tuple(normal_classes))


def saved_threshold_for(run: Run, settings: Settings, score: str,
                        normal_classes) -> SavedThreshold | None:
    """The run's saved threshold for this score, if it was saved for these normal classes."""
    return lookup_threshold(run, settings, score, normal_classes).record


def reconstructions(run: Run, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(reconstructions, per-pixel squared error maps scaled to each image's largest error) as
    uint8 arrays, for a gallery."""
    from core.anomaly.scores import pictures
    from core.inference import forward_batches, load_model
    from core.models import model_kind
    from core.models.output import typed

    model, state = load_model(run)
    kind = model_kind(state["config"]["model"])
    out = forward_batches(lambda x: pictures(typed(model(x), kind).recon, x), images)
    return out["recon"], out["err"]
