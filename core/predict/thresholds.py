"""The threshold predict applies and where it came from: saved with the run (or the bundle), a
value given, or a strategy re-fitted on the run's validation split. `--threshold` text is
"saved", a number, or a strategy (f1, tnr=0.95, ...)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from core.anomaly.record import ThresholdRecord
from core.anomaly.strategies import make_strategy, offered_strategies
from core.errors import UserError
from core.predict.detector import PROBABILITY, Detector

SAVED = "saved"
ARGMAX = "argmax"  # a classifier: the most probable class, whatever threshold was saved


class ThresholdSource(StrEnum):
    SAVED = "saved"  # saved with the run on the Anomaly page (or carried by a bundle)
    VALUE = "value"  # given by the user
    STRATEGY = "strategy"  # an automatic strategy re-fitted on the validation split
    DEFAULT = "default"  # a classifier without a saved threshold: the most probable class


@dataclass(frozen=True)
class ThresholdChoice:
    """A threshold on one score (None: a classifier's most probable class) and its provenance."""

    value: float | None
    score: str
    source: ThresholdSource
    detail: str  # one line: how it was set
    saved: ThresholdRecord | None = None
    positive: str | None = None  # a 2-class classifier: the class called at or above the value

    def to_json(self) -> dict:
        return {"value": self.value, "score": self.score, "source": str(self.source),
                "detail": self.detail, "positive": self.positive,
                "saved": self.saved.to_json() if self.saved else None}


def strategies_hint() -> str:
    return ", ".join(offered_strategies()) + ", fpr=0.05"


def parse_value(text: str) -> float | None:
    """The number in text, or None when it is not one; refuses NaN and infinities."""
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        raise UserError(f"the threshold must be a finite number, not {text}")
    return value


def resolve_threshold(detector: Detector, score: str | None, text: str = SAVED) -> ThresholdChoice:
    """The threshold `text` asks for, on `score` (an anomaly score, or None for a classifier)."""
    text = str(text).strip() or SAVED
    if detector.kind.predicts_classes:
        return _classifier_threshold(detector, text)
    detector.check_score(score)
    value = parse_value(text)
    if value is not None:
        return ThresholdChoice(value, score, ThresholdSource.VALUE, f"{score} >= {value:.6g}, "
                               "as given")
    if text == SAVED:
        lookup = detector.threshold_lookup(score)
        saved = lookup.record
        if saved is None:
            why = f" ({lookup.why_not})" if lookup.why_not else ""
            raise UserError(f"{detector.name} has no saved threshold for {score}{why}: save one on "
                            f"the Anomaly page or with `threshold RUN --save`, or give a value or a "
                            f"strategy fitted on the validation split ({strategies_hint()})")
        return ThresholdChoice(saved.value, score, ThresholdSource.SAVED,
                               "saved with the run: " + saved.describe(), saved)
    return fit_strategy(detector, score, text)


def fit_strategy(detector: Detector, score: str, text: str) -> ThresholdChoice:
    """A strategy fitted on the validation split's scores, as the Anomaly page fits it."""
    strategy = make_strategy(text)
    values, is_anomaly = detector.reference_scores(score, "val")
    strategy.fit(values, is_anomaly)
    if strategy.threshold_ is None:
        raise UserError(f"strategy {text} could not be fitted on the validation split: "
                        + " ".join(strategy.warnings_))
    detail = (f"{text} fitted on the validation split ({len(values):,} images, "
              f"{int(np.sum(is_anomaly)):,} anomalies)")
    return ThresholdChoice(float(strategy.threshold_), score, ThresholdSource.STRATEGY, detail)


def _classifier_threshold(detector: Detector, text: str) -> ThresholdChoice:
    """Two classes: a probability threshold on the second class (saved or given); more classes,
    or none saved: the most probable class."""
    two = len(detector.classes) == 2
    value = parse_value(text)
    if text not in (SAVED, ARGMAX) and value is None:
        raise UserError(f"{detector.name} is a classifier: --threshold takes saved, argmax or a "
                        "probability, not a strategy")
    if value is not None:
        if not two:
            raise UserError(f"a probability threshold needs a 2-class classifier; {detector.name} "
                            f"has {len(detector.classes)} classes")
        if not 0 <= value <= 1:
            raise UserError(f"a probability threshold is between 0 and 1, not {value:g}")
        return ThresholdChoice(value, PROBABILITY, ThresholdSource.VALUE,
                               f"P({detector.classes[1]}) >= {value:.6g}, as given",
                               positive=detector.classes[1])
    lookup = detector.threshold_lookup(PROBABILITY) if two and text == SAVED else None
    if lookup is not None and lookup.why_not:
        raise UserError(f"{detector.name}: {lookup.why_not}")
    saved = lookup.record if lookup is not None else None
    if saved is not None:
        positive = saved.params.get("positive", detector.classes[1])
        if positive not in detector.classes:
            raise UserError(f"{detector.name}: the saved threshold's positive class {positive!r} "
                            "is not one of its classes; save it again")
        return ThresholdChoice(saved.value, PROBABILITY, ThresholdSource.SAVED,
                               f"saved with the run: P({positive}) >= {saved.value:.6g} "
                               f"({saved.describe()})", saved, positive)
    return ThresholdChoice(None, PROBABILITY, ThresholdSource.DEFAULT,
                           "the most probable class" + (" (no saved probability threshold)"
                                                        if two else ""))
