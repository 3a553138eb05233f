"""Classifier evaluation: predictions cached per run and split, metrics from scikit-learn.

Metrics and curves of cached predictions are also kept in memory per (checkpoint, dataset,
split): at 49 classes and 38,547 test images they take seconds, and a page reruns often.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from sklearn.metrics import (
    auc,
    average_precision_score,
    balanced_accuracy_score,
    classification_report,
    confusion_matrix,
    precision_recall_curve,
    roc_curve,
)

from core.data.dataset import ImageDataset, load_dataset
from core.errors import UserError
from core.evaluation.thinning import thin_curve
from core.models import model_kind
from core.runs.results import cached_arrays, checkpoint_key
from core.runs.store import Run
from core.settings import Settings
from core.training.config import run_config


@dataclass
class Predictions:
    """One row per image of a split: dataset index, true class, probabilities."""

    index: np.ndarray
    y_true: np.ndarray
    proba: np.ndarray  # (N, n_classes)
    classes: tuple[str, ...]
    from_cache: bool = False
    key: str | None = None  # what the arrays were computed for; None: not remembered in memory
    notes: tuple[str, ...] = ()  # e.g. the predictions could not be cached (a full disk)

    @cached_property
    def y_pred(self) -> np.ndarray:
        return self.proba.argmax(1)

    @cached_property
    def confidence(self) -> np.ndarray:
        return self.proba.max(1)  # computed once: galleries read it per caption


def require_classifier(run: Run) -> None:
    kind = model_kind(run_config(run).model)
    if not kind.predicts_classes:
        raise UserError(f"{run.name()} is a {kind}; evaluate classifiers here and autoencoders on "
                        "the Anomaly page")


def predict(run: Run, split: str, settings: Settings, ds: ImageDataset | None = None) -> Predictions:
    """Class probabilities for every image of the split, computed once and cached in the run."""
    from core.inference import forward_batches, load_model
    from core.models.losses import class_probabilities

    require_classifier(run)
    config = run_config(run)
    ds = ds or load_dataset(config.dataset, settings)
    index = ds.indices(split)
    if len(index) == 0:
        raise UserError(f"the {split} split of {config.dataset} is empty")

    def compute() -> dict[str, np.ndarray]:
        model, _ = load_model(run)
        out = forward_batches(lambda x: {"proba": class_probabilities(model(x))}, ds.images[index])
        return {"index": index, "y_true": ds.labels[index], "proba": out["proba"]}

    key = {"checkpoint": checkpoint_key(run), "dataset": config.dataset, "split": split}
    notes: list[str] = []
    arrays, hit = cached_arrays(run, settings, f"predictions-{split}", key, compute, notes)
    return Predictions(arrays["index"], arrays["y_true"], arrays["proba"], ds.classes, hit,
                       f"{run.path}|{key}", tuple(notes))


_MEMO: OrderedDict = OrderedDict()
_MEMO_ENTRIES = 32


def _remembered(p: Predictions, what: str, compute):
    """compute(), remembered per (p.key, what) for the last _MEMO_ENTRIES results."""
    if p.key is None:
        return compute()
    key = (p.key, what)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    value = _MEMO[key] = compute()
    while len(_MEMO) > _MEMO_ENTRIES:
        _MEMO.popitem(last=False)
    return value


def classification_metrics(p: Predictions) -> dict:
    """Headline numbers and a per-class table, all from scikit-learn."""
    return _remembered(p, "metrics", lambda: _metrics(p))


def _metrics(p: Predictions) -> dict:
    labels = list(range(len(p.classes)))
    report = classification_report(p.y_true, p.y_pred, labels=labels, target_names=list(p.classes),
                                   output_dict=True, zero_division=0)
    roc = class_curves(p)["roc"]
    per_class = []
    for i, name in enumerate(p.classes):
        row = report[name]
        per_class.append({"class": name, "precision": row["precision"], "recall": row["recall"],
                          "f1": row["f1-score"], "support": int(row["support"]),
                          "roc_auc": roc[i][2] if i in roc else float("nan")})
    counts = np.bincount(p.y_true, minlength=len(p.classes))
    return {
        "accuracy": report["accuracy"] if "accuracy" in report else float(np.mean(p.y_true == p.y_pred)),
        "balanced_accuracy": balanced_accuracy_score(p.y_true, p.y_pred),
        "macro_precision": report["macro avg"]["precision"],
        "macro_recall": report["macro avg"]["recall"],
        "macro_f1": report["macro avg"]["f1-score"],
        "weighted_precision": report["weighted avg"]["precision"],
        "weighted_recall": report["weighted avg"]["recall"],
        "weighted_f1": report["weighted avg"]["f1-score"],
        "majority_baseline": float(counts.max() / counts.sum()),
        "imbalance_ratio": float(counts.max() / max(counts[counts > 0].min(), 1)),
        "n": int(len(p.y_true)),
        "per_class": per_class,
    }


def confusion(p: Predictions, normalize: bool = False) -> np.ndarray:
    return confusion_matrix(p.y_true, p.y_pred, labels=list(range(len(p.classes))),
                            normalize="true" if normalize else None)


def largest_confusion(matrix: np.ndarray) -> tuple[int, int]:
    """(true, predicted) of the largest off-diagonal cell; (0, 0) when nothing is confused."""
    off = matrix - np.diag(np.diag(matrix))
    if not off.any():
        return 0, 0
    t, q = np.unravel_index(off.argmax(), off.shape)
    return int(t), int(q)


def _most_confident_first(p: Predictions, mask: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(mask)
    return rows[np.argsort(-p.confidence[rows], kind="stable")]


def cell_members(p: Predictions, true_class: int, predicted_class: int) -> np.ndarray:
    """Rows of the predictions in one confusion-matrix cell, most confident first."""
    return _most_confident_first(p, (p.y_true == true_class) & (p.y_pred == predicted_class))


def confident_mistakes(p: Predictions) -> np.ndarray:
    """Rows of the misclassified images, most confident mistakes first."""
    return _most_confident_first(p, p.y_true != p.y_pred)


def class_curves(p: Predictions) -> dict:
    """Every class's one-vs-rest ROC and PR curve ({class id: (x, y, area)}), the micro and macro
    ROC averages; areas from the full curves (roc_auc_score's value), points thinned for drawing
    (core.evaluation.thinning: exact at every point kept). Remembered per predictions."""
    return _remembered(p, "curves", lambda: _class_curves(p))


def _class_curves(p: Predictions) -> dict:
    n_classes = len(p.classes)
    onehot = np.eye(n_classes, dtype=bool)[p.y_true]
    out: dict = {"roc": {}, "pr": {}}
    full_roc = {}
    for i in range(n_classes):
        if not onehot[:, i].any() or onehot[:, i].all():
            continue
        fpr, tpr, _ = roc_curve(onehot[:, i], p.proba[:, i])
        full_roc[i] = (fpr, tpr)
        precision, recall, _ = precision_recall_curve(onehot[:, i], p.proba[:, i],
                                                      drop_intermediate=True)
        out["roc"][i] = (*thin_curve(fpr, tpr), auc(fpr, tpr))
        # PR curves are summarised by average precision (sklearn), not a trapezoid area
        out["pr"][i] = (*thin_curve(recall, precision),
                        average_precision_score(onehot[:, i], p.proba[:, i]))
    fpr, tpr, _ = roc_curve(onehot.ravel(), p.proba.ravel())
    out["micro"] = (*thin_curve(fpr, tpr), auc(fpr, tpr))
    if full_roc:  # macro: average the per-class TPRs on every FPR any class reaches
        grid = np.unique(np.concatenate([fpr for fpr, _ in full_roc.values()]))
        mean_tpr = np.mean([np.interp(grid, fpr, tpr) for fpr, tpr in full_roc.values()], 0)
        out["macro"] = (*thin_curve(grid, mean_tpr), auc(grid, mean_tpr))
    return out


def roc_pr_curves(p: Predictions, class_ids: list[int]) -> dict:
    """One-vs-rest ROC and PR curves of the chosen classes by name, plus micro and macro ROC
    averages over all classes (see class_curves)."""
    curves = class_curves(p)
    out = {kind: {p.classes[i]: curves[kind][i] for i in class_ids if i in curves[kind]}
           for kind in ("roc", "pr")}
    return {**out, **{k: curves[k] for k in ("micro", "macro") if k in curves}}


def predictions_frame(p: Predictions) -> pd.DataFrame:
    """The CSV export: index, true, predicted, confidence, one probability column per class."""
    frame = pd.DataFrame({"index": p.index, "true": np.asarray(p.classes)[p.y_true],
                          "predicted": np.asarray(p.classes)[p.y_pred], "confidence": p.confidence})
    probs = pd.DataFrame(p.proba, columns=[f"p_{c}" for c in p.classes])
    return pd.concat([frame, probs], axis=1)


def per_class_frame(metrics: dict) -> pd.DataFrame:
    return pd.DataFrame(metrics["per_class"]).set_index("class")


def metrics_csv(metrics: dict) -> bytes:
    """The metrics CSV export: the headline numbers in one row, a blank line, then per class."""
    head = pd.DataFrame([{k: v for k, v in metrics.items() if k != "per_class"}])
    return (head.to_csv(index=False) + "\n" + per_class_frame(metrics).to_csv()).encode()


COMPARED = ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "mean_roc_auc")


def comparison_row(run: Run, split: str, settings: Settings, metrics: dict | None = None) -> dict:
    """One run's headline metrics with its size and training time, for side-by-side tables.

    metrics: the run's classification_metrics if the caller has them already.
    """
    metrics = metrics or classification_metrics(predict(run, split, settings))
    status = run.status()
    aucs = [c["roc_auc"] for c in metrics["per_class"] if c["roc_auc"] == c["roc_auc"]]
    started, finished = status.get("started"), status.get("finished")
    return {"run": run.name(), "model": run_config(run).model, "optimizer": run_config(run).optimizer,
            **{k: metrics[k] for k in COMPARED if k in metrics},
            "mean_roc_auc": float(np.mean(aucs)) if aucs else float("nan"),
            "parameters": status.get("n_parameters"),
            "train_seconds": round(finished - started, 1) if started and finished else None}
