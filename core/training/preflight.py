"""Why a training config cannot run on a dataset, found before a run folder or a process exists.

The Train page disables its button and shows these reasons; a run launched anyway would fail
seconds later in its own process (an empty validation split, a loss that does not fit, one class).
"""
from __future__ import annotations

import numpy as np

from core.data.dataset import ImageDataset
from core.errors import UserError
from core.models import measure_model, model_kind
from core.models.losses import BINARY_HEAD_LOSSES, check_loss
from core.training.config import TrainConfig
from core.training.data import training_arrays


def training_problems(config: TrainConfig, ds: ImageDataset) -> list[str]:
    """Every reason `config` cannot train on `ds`, each a sentence a user can act on; [] if none."""
    problems: list[str] = []

    def check(step) -> None:
        try:
            step()
        except UserError as exc:  # DatasetError is a UserError
            problems.append(str(exc))

    kind = model_kind(config.model)
    if config.loss != "auto":
        check(lambda: check_loss(config.loss, kind))
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
