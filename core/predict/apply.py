"""Apply a detector to new images, one batch at a time: read and prepare a batch, one batched
forward pass, keep only the numbers. Memory follows the batch size, not the number of images."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.data.decode import constant_images, constant_warning
from core.predict.detector import Detector
from core.predict.inputs import BATCH, NewImages
from core.predict.result import PredictResult
from core.predict.thresholds import ThresholdChoice

Progress = Callable[[float, str], None]


def predict_images(detector: Detector, images: NewImages, threshold: ThresholdChoice,
                   batch_size: int = BATCH, progress: Progress | None = None) -> PredictResult:
    """Scores (autoencoders) or class probabilities (classifiers) of every image, the files left
    out with their reasons, and the decisions at `threshold`."""
    n = len(images)
    decoder = detector.kind.has_decoder
    values = np.full(n if decoder else (n, len(detector.classes)), np.nan)
    errors: dict[int, str] = {}
    done = flat = 0
    for batch in images.batches(detector.recipe, batch_size):
        errors.update(batch.errors)
        if len(batch.rows):
            flat += len(constant_images(batch.images))
            values[batch.rows] = (detector.scores(batch.images, threshold.score) if decoder
                                  else detector.probabilities(batch.images))
        done += len(batch.rows) + len(batch.errors)
        if progress is not None:
            progress(done / n, f"{done:,}/{n:,} images")
    return PredictResult(images.names, detector.kind, detector.classes, threshold, values,
                         dict(sorted(errors.items())), detector.name, images.where, images.labels,
                         calibration=normal_calibration(detector, threshold.score) if decoder else None,
                         warnings=[w for w in [constant_warning(flat, done - len(errors))] if w])


def normal_calibration(detector: Detector, score: str) -> np.ndarray | None:
    """The normal validation scores new images' p-values are computed against (a run's, or the
    ones a bundle carries); None when the detector has none (its normal classes unknown)."""
    from core.errors import UserError

    try:
        values, is_anomaly = detector.reference_scores(score, "val")
    except UserError:
        return None
    normal = values[~is_anomaly]
    return normal if len(normal) and np.isfinite(normal).all() else None
