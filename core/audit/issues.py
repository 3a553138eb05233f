"""Label issues from out-of-sample probabilities, ranked by cleanlab's label-quality score."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LabelIssues:
    order: np.ndarray  # positions into the audited rows, most likely wrong first (all rows)
    score: np.ndarray  # cleanlab label-quality score per audited row (low = likely wrong)
    flagged: np.ndarray  # bool per audited row: cleanlab's find_label_issues says it is an issue
    suggested: np.ndarray  # the class the out-of-sample model prefers, per audited row


def label_issues(labels: np.ndarray, probs: np.ndarray) -> LabelIssues:
    """cleanlab.rank.get_label_quality_scores (self-confidence) ranks every image; cleanlab's
    confident learning (find_label_issues, prune_by_noise_rate) marks which ones are issues."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    probs = np.asarray(probs, dtype=np.float64)
    probs = probs / probs.sum(axis=1, keepdims=True)
    score = get_label_quality_scores(labels, probs, method="self_confidence")
    flagged = find_label_issues(labels, probs, filter_by="prune_by_noise_rate", n_jobs=1)
    order = np.argsort(score, kind="stable")
    return LabelIssues(order=order, score=score, flagged=flagged, suggested=probs.argmax(axis=1))


def precision_recall_at(order: np.ndarray, truth: np.ndarray, k: int) -> tuple[float, float]:
    """Precision and recall of the top k positions of a ranking against a set of true positions."""
    top = set(order[:k].tolist())
    hits = len(top & set(truth.tolist()))
    return hits / max(k, 1), hits / max(len(truth), 1)
