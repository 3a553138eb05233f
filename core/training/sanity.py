"""Warnings about a run that finished without error but learned nothing useful.

A run at chance level ends "done" like any other; these checks compare its best validation
epoch with what a model that learned nothing would score, and the pages show the warning.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from core.models.kinds import Kind
from core.training.data import TrainData

Z = 3.0  # how many standard errors above chance a real model must be
BATCH = 4096


def chance_accuracy(y_val: torch.Tensor) -> float:
    """Validation accuracy of always predicting the most common class."""
    counts = torch.bincount(y_val.cpu())
    return float(counts.max()) / max(1, len(y_val))


def mean_image_mse(data: TrainData) -> float:
    """Per-pixel validation MSE of always reconstructing the mean training image."""
    def batches(x: torch.Tensor):  # a K49-size set as floats at once would be ~1 GB
        for first in range(0, len(x), BATCH):
            yield x[first:first + BATCH].double().div_(255.0)

    mean = sum(b.sum(0, keepdim=True) for b in batches(data.x_train)) / max(1, len(data.x_train))
    total = sum(float(((b - mean) ** 2).sum()) for b in batches(data.x_val))
    return total / max(1, data.x_val.numel())


def run_warnings(kind: Kind, best: dict | None, data: TrainData) -> list[str]:
    """Warnings for a run whose best epoch record is `best` (None: no epoch finished)."""
    if best is None:
        return []
    n = len(data.y_val)
    if kind.predicts_classes and "val_acc" in best:
        chance = chance_accuracy(data.y_val)
        margin = Z * math.sqrt(chance * (1 - chance) / max(1, n))
        if best["val_acc"] <= chance + margin:
            return [f"accuracy at chance level: the best validation accuracy ({best['val_acc']:.3f}) "
                    f"is not clearly above always answering the most common class ({chance:.3f}); "
                    "try a lower learning rate"]
    if kind.has_decoder and "val_mse" in best:
        baseline = mean_image_mse(data)
        if np.isfinite(baseline) and best["val_mse"] >= baseline:
            return [f"reconstruction no better than the mean image: best validation MSE "
                    f"{best['val_mse']:.4g} vs {baseline:.4g} for the mean training image"]
    return []
