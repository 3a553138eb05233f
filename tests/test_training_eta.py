"""The ETA of a live run follows its own recent pace, not its average since start-up."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.training.runner import ETA_WINDOW_S, RunRecorder


def test_recent_rate_forgets_a_slow_start() -> None:
    trainer = SimpleNamespace(step=0)  # what RunRecorder reads at start
    recorder = RunRecorder(run=None, trainer=trainer)
    step = 0
    for second in range(10):  # 1 step/s while other jobs held the cores
        step += 1
        recorder._recent_rate(float(second), step)
    for second in range(10, 10 + int(3 * ETA_WINDOW_S)):  # then 4 steps/s
        step += 4
        rate = recorder._recent_rate(float(second), step)
    assert rate == pytest.approx(4.0, rel=1e-6)
    assert recorder.samples[0][0] >= second - ETA_WINDOW_S - 1  # old samples are dropped


def test_no_rate_before_a_step_is_done() -> None:
    recorder = RunRecorder(run=None, trainer=SimpleNamespace(step=0))
    assert recorder._recent_rate(0.0, 0) is None
    assert recorder._recent_rate(1.0, 0) is None
    assert recorder._recent_rate(2.0, 2) == pytest.approx(1.0, rel=1e-6)
