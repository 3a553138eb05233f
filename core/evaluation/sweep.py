"""The one threshold sweep: sort scores once, answer any threshold with a binary search.

Convention everywhere: a higher score means "more positive" (anomalous, or class 1), and an image
is called positive when score >= threshold, as scikit-learn's roc_curve does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import UserError

EXACT_UP_TO = 50_000  # scores: up to this many, a table row per distinct score (every count)
TABLE_ROWS = 4_096  # past that, rows at this many quantile-spaced thresholds (exact at each)


@dataclass(frozen=True)
class Counts:
    tp: int
    fp: int
    tn: int
    fn: int

    def metrics(self) -> dict:
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        tpr = tp / (tp + fn) if tp + fn else float("nan")
        tnr = tn / (tn + fp) if tn + fp else float("nan")
        precision = tp / (tp + fp) if tp + fp else 0.0  # sklearn's zero_division=0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        total = tp + fp + tn + fn
        return {"tp": tp, "fp": fp, "tn": tn, "fn": fn, "tpr": tpr, "tnr": tnr,
                "fpr": 1 - tnr if tnr == tnr else float("nan"), "precision": precision,
                "recall": tpr, "f1": f1, "accuracy": (tp + tn) / total if total else float("nan"),
                "balanced_accuracy": (tpr + tnr) / 2}


@dataclass(frozen=True)
class SweepTable:
    """Counts at increasing candidate thresholds t_0 < ... < t_{K-1}: `below[k]` scores, of them
    `positives_below[k]` positives, fall strictly below t_k and are called negative there.

    exact: every distinct score is a row, so any threshold t has the counts of the first row with
    t_k >= t (everything negative past the last row). Otherwise the rows are quantile-spaced and
    exact at their own t_k (and below t_0 or above t_{K-1}); what a browser needs to answer a drag
    by itself, O(log K) per position."""

    thresholds: np.ndarray  # float64, strictly increasing
    below: np.ndarray  # int64, non-decreasing
    positives_below: np.ndarray  # int64, non-decreasing
    n_pos: int
    n_neg: int
    exact: bool

    def counts_at_row(self, k: int) -> Counts:
        """Counts at t_k; k == len(thresholds) means above every score."""
        below = int(self.below[k]) if k < len(self.thresholds) else self.n_pos + self.n_neg
        fn = int(self.positives_below[k]) if k < len(self.thresholds) else self.n_pos
        return Counts(tp=self.n_pos - fn, fp=self.n_neg - (below - fn), tn=below - fn, fn=fn)


class ThresholdSweep:
    """Scores and binary labels, sorted once. counts(t) is O(log n); curves() is one pass."""

    def __init__(self, scores, is_positive):
        scores = np.asarray(scores, dtype=np.float64).ravel()
        labels = np.asarray(is_positive, dtype=bool).ravel()
        if len(scores) != len(labels):
            raise UserError(f"{len(scores)} scores but {len(labels)} labels")
        if len(scores) == 0:
            raise UserError("no scores to threshold")
        bad = ~np.isfinite(scores)
        if bad.any():
            raise UserError(f"{int(bad.sum())} score(s) are NaN or infinite; the model's outputs "
                            "are not usable (did the run diverge?)")
        order = np.argsort(scores, kind="stable")
        self.sorted_scores_ = scores[order]
        # positives_below_[k]: positives among the k smallest scores
        self.positives_below_ = np.concatenate([[0], np.cumsum(labels[order])])
        self.n_pos_ = int(labels.sum())
        self.n_neg_ = int(len(labels) - self.n_pos_)

    @property
    def warnings(self) -> list[str]:
        out = []
        if self.n_pos_ == 0:
            out.append("There are no positive (anomalous) images here: TPR, precision and F1 are "
                       "undefined and curves cannot be drawn.")
        if self.n_neg_ == 0:
            out.append("There are no negative (normal) images here: TNR is undefined.")
        if self.sorted_scores_[0] == self.sorted_scores_[-1]:
            out.append("All scores are equal: no threshold separates anything.")
        return out

    def counts(self, threshold: float) -> Counts:
        below = int(np.searchsorted(self.sorted_scores_, threshold, side="left"))
        fn = int(self.positives_below_[below])
        tn = below - fn
        return Counts(tp=self.n_pos_ - fn, fp=self.n_neg_ - tn, tn=tn, fn=fn)

    def table(self, max_rows: int = TABLE_ROWS, exact_up_to: int = EXACT_UP_TO) -> SweepTable:
        """Counts at every distinct score (up to exact_up_to scores, or whenever there are at most
        max_rows distinct ones), else at max_rows quantile-spaced scores, min and max included."""
        s = self.sorted_scores_
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])  # first index of each value
        exact = len(s) <= exact_up_to or len(starts) <= max_rows
        if not exact:
            ranks = np.linspace(0, len(s) - 1, max_rows).round().astype(np.int64)
            starts = np.unique(np.searchsorted(s, s[ranks], side="left"))
        return SweepTable(thresholds=s[starts], below=starts.astype(np.int64),
                          positives_below=self.positives_below_[starts].astype(np.int64),
                          n_pos=self.n_pos_, n_neg=self.n_neg_, exact=bool(exact))

    def histogram(self, edges) -> tuple[np.ndarray, np.ndarray]:
        """(negatives, positives) per bin [e_i, e_i+1), the last bin closed: the scores a
        threshold at e_i and one at e_i+1 disagree on, so a bar never straddles the line."""
        edges = np.asarray(edges, dtype=np.float64)
        below = np.searchsorted(self.sorted_scores_, edges, side="left")
        below[-1] = np.searchsorted(self.sorted_scores_, edges[-1], side="right")
        positives = np.diff(self.positives_below_[below])
        return np.diff(below) - positives, positives

    def metrics(self, threshold: float) -> dict:
        return {"threshold": float(threshold), **self.counts(threshold).metrics()}

    def percentile_of(self, threshold: float, among: np.ndarray | None = None) -> float:
        """Share of scores (or of `among`) below the threshold, in percent."""
        if among is None:
            return 100.0 * np.searchsorted(self.sorted_scores_, threshold, side="left") / len(
                self.sorted_scores_)
        return 100.0 * float(np.mean(np.asarray(among) < threshold))

    def curves(self) -> dict:
        """ROC, precision-recall and F1 at every distinct threshold (descending), with AUCs."""
        if self.n_pos_ == 0 or self.n_neg_ == 0:
            raise UserError("curves need both positive and negative images; " + " ".join(self.warnings))
        s = self.sorted_scores_
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])[::-1]  # first index of each value
        thresholds, below = s[starts], starts
        fn = self.positives_below_[below]
        tp = self.n_pos_ - fn
        fp = self.n_neg_ - (below - fn)
        tpr, fpr = tp / self.n_pos_, fp / self.n_neg_
        precision = tp / np.maximum(tp + fp, 1)
        f1 = 2 * tp / (2 * tp + fp + fn)
        roc_fpr, roc_tpr = np.r_[0.0, fpr], np.r_[0.0, tpr]
        # average precision as scikit-learn defines it: sum over thresholds of dRecall * precision
        ap = float(np.sum(np.diff(np.r_[0.0, tpr]) * precision))
        return {"thresholds": thresholds, "tpr": tpr, "fpr": fpr, "precision": precision,
                "recall": tpr, "f1": f1, "roc_fpr": roc_fpr, "roc_tpr": roc_tpr,
                "roc_auc": float(np.trapezoid(roc_tpr, roc_fpr)), "average_precision": ap}
