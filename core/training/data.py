"""A dataset turned into the tensors the loop slices: uint8 on the device, labels, split indices."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.data.dataset import ImageDataset, load_dataset
from core.data.splits import AnomalySplit
from core.errors import UserError
from core.training.config import TrainConfig


@dataclass
class TrainData:
    x_train: torch.Tensor  # uint8 (N, C, H, W) on the device; scaled to [0, 1] per batch
    y_train: torch.Tensor  # int64
    x_val: torch.Tensor
    y_val: torch.Tensor
    classes: tuple[str, ...]
    in_shape: tuple[int, int, int]
    decisions: dict | None = None  # the spec's decisions file as read: file, sha256, counts

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def training_arrays(ds: ImageDataset, normal_classes: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Train and val indices; with normal classes, both hold normal images only.

    Validation must be normal-only too: it picks the best checkpoint, and an anomaly seen there
    would leak the anomaly class into model selection.
    """
    train, val = ds.indices("train"), ds.indices("val")
    if normal_classes:
        view = AnomalySplit.choose(ds.classes, normal=normal_classes)
        normal = ~view.is_anomaly(ds.labels, ds.classes)
        train, val = train[normal[train]], val[normal[val]]
    if len(train) == 0:
        raise UserError("no training images left after choosing the normal classes")
    return {"train": train, "val": val}


def prepare(config: TrainConfig, device: torch.device, ds: ImageDataset | None = None) -> TrainData:
    ds = ds or load_dataset(config.dataset)
    idx = training_arrays(ds, config.normal_classes)
    if len(idx["val"]) == 0:
        raise UserError("the validation split is empty; set a validation fraction above 0")

    def tensor(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(device)

    return TrainData(
        x_train=tensor(ds.images[idx["train"]]), y_train=tensor(ds.labels[idx["train"]]),
        x_val=tensor(ds.images[idx["val"]]), y_val=tensor(ds.labels[idx["val"]]),
        classes=ds.classes, in_shape=ds.shape, decisions=decisions_record(ds))


def decisions_record(ds: ImageDataset) -> dict | None:
    """What a run records of its dataset's decisions file (a resume refuses a changed file)."""
    d = ds.decisions
    return None if d is None else {"file": d.file, "sha256": d.sha256, "relabelled": d.relabelled,
                                   "excluded": d.excluded}
