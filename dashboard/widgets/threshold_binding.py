"""The threshold panel's protocol with the session model, the URL and the saved record, written
once for the Anomaly page and Evaluate's two-class threshold:

- seed: the kept value (a move not written back yet wins), else the link's value the first time
  (only when the link is of this view), else the saved record, else the page's default; clipped
  to the panel's range and put where the panel reads it;
- commit: a value the panel committed becomes the kept one ("manual" when it moved), noted as
  written back, and mirrored in the URL;
- save: the record (core.anomaly.record) with the strategy kept only while the value is still
  the one it set, and the counts behind it.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.anomaly.record import MANUAL, Author, ThresholdRecord, save_record
from core.anomaly.strategies import MinCost, make_strategy
from core.errors import UserError
from dashboard import state, url


@dataclass(frozen=True)
class ThresholdBinding:
    key: str  # where the panel keeps its committed value (st.session_state)
    owner: tuple  # what the value belongs to: (run, score, normal classes) or (run, positive)
    name: str  # its model name in the session model

    def current(self) -> state.Threshold | None:
        value = state.get(self.name)
        return value if isinstance(value, state.Threshold) else None

    def keep(self, value: float, source: str) -> None:
        state.put(self.name, state.Threshold(float(value), source))

    def seed(self, bounds: tuple[float, float], linked_ok: Callable[[float], bool],
             default: Callable[[], tuple[float, str]]) -> state.Threshold:
        """The value to show (see the module docstring), put in the panel's key. linked_ok says
        whether the link's value belongs to this view (its run, score...) and is valid here."""
        moved = state.moved_widget(self.key, self.owner)
        if moved is not None:
            self.keep(float(moved), MANUAL)
        if self.current() is None:
            linked = _number(url.take("threshold"))  # the link's value is used once
            value, source = ((linked, MANUAL) if linked is not None and linked_ok(linked)
                             else default())
            self.keep(float(np.clip(value, *bounds)), source)
        current = self.current()
        state.show_in_widget(self.key, self.owner, float(np.clip(current.value, *bounds)))
        return current

    def commit(self, value: float) -> None:
        """After the panel: its value is the kept one (moved by hand unless it is unchanged)."""
        current = self.current()
        if current is None or not math.isclose(current.value, value, rel_tol=1e-9, abs_tol=0):
            self.keep(value, MANUAL)
        state.widget_written_back(self.key, self.owner, float(value))
        url.show(threshold=repr(float(value)))

    def record(self, run_id: str, score: str, value: float, normal_classes, val, shown) -> ThresholdRecord:
        """The record to save for the kept value: its strategy while the value is still the one
        the strategy set (with its parameters, costs or budget, and the counts on validation,
        where it was fitted), else set by hand (counts on the scores shown, where it was tuned).
        val and shown are (scores, is_anomaly)."""
        current = self.current()
        source = current.source if current is not None and math.isclose(
            current.value, value, rel_tol=0, abs_tol=1e-12) else MANUAL
        extra: dict = {}
        if source != MANUAL:
            try:
                strategy = make_strategy(source)
            except UserError:
                source = MANUAL
            else:
                extra["params"] = strategy.params()
                if isinstance(strategy, MinCost):
                    extra["costs"] = {"false_alarm": strategy.false_alarm, "miss": strategy.miss}
                extra["budget"] = extra["params"].get("per_thousand")
        record = ThresholdRecord.now(run_id, score, value, normal_classes, source,
                                     value if source != MANUAL else None, by=Author.PAGE, **extra)
        return record.with_counts(*(val if source != MANUAL else shown))


def _number(text: str | None) -> float | None:
    """A finite number from the link's text, else None."""
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def save(record: ThresholdRecord, path) -> None:
    save_record(record, path)


def anomaly_binding(key: str, run_id: str, score: str, normal: tuple[str, ...]) -> ThresholdBinding:
    """The Anomaly page's threshold: one per run, score and normal classes."""
    return ThresholdBinding(key, (run_id, score, tuple(normal)),
                            state.keyed(f"anomaly.threshold.{score}.{','.join(normal)}", run_id))


def binary_binding(key: str, run_id: str, positive: int) -> ThresholdBinding:
    """Evaluate's two-class probability threshold: one per run and positive class."""
    return ThresholdBinding(key, (run_id, positive),
                            state.keyed("evaluate.binary_threshold", run_id, positive))
