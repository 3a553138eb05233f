"""Out-of-sample class probabilities for every training image: K short trainings of one config,
each on K-1 folds, predicting the fold it did not see (cleanlab's input). Runs the one training
loop in this process, with progress, cancel and a time estimate that refuses a too-long audit."""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from core.data.dataset import ImageDataset
from core.errors import UserError
from core.inference import forward_batches
from core.models import model_kind
from core.models.losses import class_probabilities
from core.runs.status import RunState
from core.training.config import TrainConfig
from core.training.data import TrainData
from core.training.loop import Callbacks, Trainer

Progress = Callable[[float, str], None]
MIN_IMAGES = 20  # fewer training images than this cannot be cross-fitted into anything useful
ESTIMATE_AFTER_S = 2.0  # measure this long before judging whether the audit fits the limit
MIN_STEPS_MEASURED = 10


class Cancelled(UserError):
    """The audit was asked to stop; nothing was cached."""


@dataclass
class CrossFit:
    rows: np.ndarray  # dataset rows of the audited training images
    probs: np.ndarray  # (len(rows), n_classes) out-of-sample probabilities
    features: np.ndarray  # (N, D) penultimate features of every image (all splits), fold 0's model
    seconds: float
    one_training_s: float  # the mean fold's training time (a fold trains on (K-1)/K of the rows)


def check_auditable(ds: ImageDataset, config: TrainConfig, folds: int, rows: np.ndarray,
                    codes: bool = False) -> None:
    """One clear line for what cannot be audited (codes: from a run's embeddings)."""
    if not codes and not model_kind(config.model).predicts_classes:
        raise UserError(f"{config.model} is not a classifier; audit labels with a classifier "
                        "config (e.g. --model mlp) or a classifier run")
    if not 2 <= folds <= 20:
        raise UserError(f"folds must be between 2 and 20, not {folds}")
    if len(rows) < max(MIN_IMAGES, 2 * folds):
        raise UserError(f"only {len(rows)} training images: an audit needs at least "
                        f"{max(MIN_IMAGES, 2 * folds)} to cross-fit {folds} folds")
    present = np.unique(ds.labels[rows])
    if len(present) < 2:
        raise UserError(f"the training images are all of one class ({ds.classes[int(present[0])]}); "
                        "label issues need two classes or more")


def folds_of(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold number per image: stratified when every class has `folds` images, else shuffled."""
    from sklearn.model_selection import KFold, StratifiedKFold

    counts = np.bincount(labels)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed) \
        if counts[counts > 0].min() >= folds else KFold(folds, shuffle=True, random_state=seed)
    out = np.zeros(len(labels), dtype=np.int64)
    for k, (_, held) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        out[held] = k
    return out


def cache_key(ds: ImageDataset, config: TrainConfig, folds: int, rows: np.ndarray,
              extra: str = "") -> str:
    """Names the data (pixels, labels, splits) and what the trainings depend on."""
    h = hashlib.sha256()
    for a in (ds.images, ds.labels, ds.split, rows):
        h.update(np.ascontiguousarray(a).data)
    settings = {k: v for k, v in config.to_dict().items()
                if k not in ("name", "threads", "device", "log_every", "dataset")}
    h.update(json.dumps({"config": settings, "folds": folds, "classes": ds.classes, "extra": extra},
                        sort_keys=True).encode())
    return h.hexdigest()[:20]


def cross_fit(ds: ImageDataset, config: TrainConfig, folds: int, rows: np.ndarray,
              progress: Progress | None = None, should_stop: Callable[[], bool] | None = None,
              max_seconds: float | None = None) -> CrossFit:
    check_auditable(ds, config, folds, rows)
    device = torch.device("cpu")
    fold = folds_of(ds.labels[rows], folds, config.seed)
    val = ds.indices("val")
    probs = np.zeros((len(rows), len(ds.classes)), dtype=np.float32)
    features = None
    started = time.perf_counter()
    say = progress or (lambda fraction, stage: None)
    fold_seconds = []
    for k in range(folds):
        fit_rows, held_rows = rows[fold != k], rows[fold == k]
        val_rows = val if len(val) else held_rows  # only picks nothing: the last weights are used
        data = TrainData(x_train=_tensor(ds.images[fit_rows]), y_train=_tensor(ds.labels[fit_rows]),
                         x_val=_tensor(ds.images[val_rows]), y_val=_tensor(ds.labels[val_rows]),
                         classes=ds.classes, in_shape=ds.shape)
        trainer = Trainer(config, data, device)
        total_steps = trainer.steps_per_epoch * config.epochs
        fold_start = time.perf_counter()
        clock: list[tuple[float, int]] = []

        def poll(k=k, trainer=trainer, total_steps=total_steps, clock=clock) -> bool:
            say((k + trainer.step / total_steps) / folds,
                f"fold {k + 1}/{folds}, epoch {trainer.epoch + 1}/{config.epochs}")
            if max_seconds and k == 0:
                clock.append((time.perf_counter(), trainer.step))
                (t0, s0), (t1, s1) = clock[0], clock[-1]
                if t1 - t0 > ESTIMATE_AFTER_S and s1 - s0 >= MIN_STEPS_MEASURED:
                    per_step = (t1 - t0) / (s1 - s0)  # the steps themselves, not the setup
                    _check_estimate(per_step * total_steps * folds, max_seconds, folds,
                                    config.epochs, len(rows))
                    clock[1:] = []
            return bool(should_stop and should_stop())

        trainer.callbacks = Callbacks(should_stop=poll)
        state = trainer.fit()
        if state == RunState.STOPPED:
            raise Cancelled("the audit was cancelled; nothing was kept")
        if state == RunState.DIVERGED:
            raise UserError(f"fold {k + 1} diverged (the loss blew up); lower the learning rate")
        fold_seconds.append(time.perf_counter() - fold_start)
        model = trainer.model.eval()
        probs[fold == k] = forward_batches(lambda x, m=model: {"p": class_probabilities(m(x))},
                                           ds.images[held_rows])["p"]
        if features is None:
            features = forward_batches(lambda x, m=model: {"f": m.features(x).flatten(1)}, ds.images)["f"]
    say(1.0, "cross-fitting done")
    return CrossFit(rows, probs, features, time.perf_counter() - started,
                    float(np.mean(fold_seconds)) * folds / max(folds - 1, 1))


def from_codes(codes: np.ndarray, ds: ImageDataset, rows: np.ndarray, folds: int, seed: int,
               progress: Progress | None = None) -> CrossFit:
    """Without a classifier: a logistic regression on a run's codes, cross-fitted with
    scikit-learn. The codes were learnt without labels, so the probabilities are out of sample."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    started = time.perf_counter()
    fold = folds_of(ds.labels[rows], folds, seed)
    probs = np.zeros((len(rows), len(ds.classes)), dtype=np.float32)
    for k in range(folds):
        if progress:
            progress(k / folds, f"fold {k + 1}/{folds} (logistic regression on the codes)")
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
        model.fit(codes[rows[fold != k]], ds.labels[rows[fold != k]])
        probs[np.ix_(fold == k, model[-1].classes_)] = model.predict_proba(codes[rows[fold == k]])
    seconds = time.perf_counter() - started
    return CrossFit(rows, probs + 1e-6, codes, seconds, seconds / folds)


def _check_estimate(estimate_s: float, limit_s: float, folds: int, epochs: int, n: int) -> None:
    if estimate_s > limit_s:
        raise UserError(f"this audit would take about {_duration(estimate_s)} ({folds} folds x "
                        f"{epochs} epochs over {n:,} images), more than the {_duration(limit_s)} "
                        "allowed; use fewer folds or epochs (--folds 2 --epochs 1), audit a sample "
                        "(--sample 5000), or allow more time (--max-minutes)")


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


__all__ = ["Cancelled", "CrossFit", "cache_key", "check_auditable", "cross_fit", "folds_of"]
