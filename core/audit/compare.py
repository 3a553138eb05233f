"""Retrain with the fixes: a sibling run of the same config on the spec that names a decisions
file, and the comparison of the two on their test split (metrics side by side, the images whose
prediction changed, matched through the rows the decisions kept)."""
from __future__ import annotations

import numpy as np

from core.data.dataset import ImageDataset, load_dataset
from core.data.spec import DatasetSpec
from core.evaluation.classification import classification_metrics, predict
from core.runs.store import Run
from core.settings import Settings
from core.training.config import TrainConfig, run_config

HEADLINE = ("accuracy", "balanced_accuracy", "macro_f1")
MAX_CHANGED = 500


def sibling_config(config: TrainConfig, decisions: str | None, name: str = "") -> TrainConfig:
    """The same config on the same dataset with `labels=decisions` (None: without one)."""
    spec = DatasetSpec.from_text(config.dataset).with_(labels=decisions)
    return TrainConfig.from_dict({**config.to_dict(), "dataset": spec.to_text(),
                                  "name": name or (f"{config.name or config.model} + {decisions}"
                                                   if decisions else config.name)})


def _origin(ds: ImageDataset) -> np.ndarray:
    return ds.decisions.origin if ds.decisions is not None else np.arange(len(ds.labels))


def compare_runs(original: Run, sibling: Run, settings: Settings, split: str = "test") -> dict:
    sides, rows, preds = {}, {}, {}
    for side, run in (("original", original), ("sibling", sibling)):
        ds = load_dataset(run_config(run).dataset, settings)
        p = predict(run, split, settings, ds)
        m = classification_metrics(p)
        sides[side] = {"run": run.id, "name": run.name(), "dataset": run_config(run).dataset, "n": m["n"],
                       **{k: float(m[k]) for k in HEADLINE}}
        rows[side] = _origin(ds)[p.index]
        preds[side] = (p.y_pred, p.y_true, ds.classes)
    common, ia, ib = np.intersect1d(rows["original"], rows["sibling"], return_indices=True)
    before, truth, classes = preds["original"]
    after = preds["sibling"][0]
    moved = np.flatnonzero(before[ia] != after[ib])
    changed = [{"index": int(common[i]), "label": classes[truth[ia[i]]],
                "before": classes[before[ia[i]]], "after": classes[after[ib[i]]],
                "fixed": bool(after[ib[i]] == truth[ia[i]])} for i in moved[:MAX_CHANGED]]
    return {"split": split, **sides, "n_changed": int(len(moved)), "changed": changed}
