"""Why a training config cannot run on a dataset, found before a run folder or a process exists.

The one place these rules live (a config's own values are judged by TrainConfig.validate): the
Train page disables its button and shows these reasons, `python -m core train` refuses with the
first before it creates a run folder, and the Trainer raises the loss rules (`loss_problems`) for
a caller that skipped both.
"""
from __future__ import annotations

import numpy as np

from core.data.dataset import ImageDataset
from core.errors import UserError
from core.models import Kind, measure_model, model_kind
from core.models.losses import BINARY_HEAD_LOSSES, check_loss, default_loss
from core.training.config import TrainConfig
from core.training.data import training_arrays


def loss_problems(config: TrainConfig, kind: Kind, n_classes: int) -> list[str]:
    """Why the config's loss cannot train a model of this kind on n_classes; [] if it can."""
    try:
        name = default_loss(kind, n_classes) if config.loss == "auto" else config.loss
        check_loss(name, kind)
    except UserError as exc:
        return [str(exc)]
    if name == "bce" and n_classes != 2:
        return [f"a binary head needs exactly 2 classes, the data has {n_classes}"]
    return []


def training_problems(config: TrainConfig, ds: ImageDataset) -> list[str]:
    """Every reason `config` cannot train on `ds`, each a sentence a user can act on; [] if none."""
    problems: list[str] = []

    def check(step) -> None:
        try:
            step()
        except UserError as exc:  # DatasetError is a UserError
            problems.append(str(exc))

    kind = model_kind(config.model)
    problems += loss_problems(config, kind, len(ds.classes))
    check(lambda: measure_model(config.model, ds.shape, len(ds.classes), config.model_params,
                                binary_head=config.loss in BINARY_HEAD_LOSSES, batch_size=config.batch_size))
    if config.normal_classes and len(set(config.normal_classes)) >= len(ds.classes):
        problems.append("every class is normal: leave at least one class out as the anomaly")
        return problems
    try:
        rows = training_arrays(ds, config.normal_classes)
    except UserError as exc:
        return [*problems, str(exc)]
    if len(rows["val"]) == 0:
        problems.append("the validation split is empty: set a validation fraction above 0 "
                        "(Splits, in the sidebar)")
    if kind.predicts_classes and len(np.unique(ds.labels[rows["train"]])) < 2:
        problems.append("the training split holds one class only; a classifier needs two or more")
    return list(dict.fromkeys(problems))
