"""The one threshold sweep: sort scores once, answer any threshold with a binary search.

Convention everywhere: a higher score means "more positive" (anomalous, or class 1), and an image
is called positive when score >= threshold, as scikit-learn's roc_curve does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import UserError


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
