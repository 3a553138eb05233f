"""The ETA of a live run: steps left at its own recent training pace, plus the epoch ends left at
what the last one cost (validation, probes, checkpoint), not its average since start-up."""
from __future__ import annotations

import pytest

from core.training.eta import WINDOW_S, Eta


def test_the_pace_forgets_a_slow_start() -> None:
    eta = Eta(started=0.0)
    step = 0
    for second in range(10):  # 1 step/s while other jobs held the cores
        step += 1
        eta.step(float(second), step)
    for second in range(10, 10 + int(3 * WINDOW_S)):  # then 4 steps/s
        step += 4
        eta.step(float(second), step)
    assert eta.rate() == pytest.approx(4.0, rel=1e-6)
    assert eta.samples[0][0] >= second - WINDOW_S - 1  # old samples are dropped
    assert eta.seconds_left(40, 0) == pytest.approx(10.0, rel=1e-6)


def test_no_estimate_before_a_pace_is_known() -> None:
    eta = Eta(started=0.0)
    assert eta.seconds_left(100, 3) is None
    eta.step(1.0, 1)
    assert eta.seconds_left(100, 3) is None  # one sample is no pace
    eta.step(3.0, 5)
    assert eta.seconds_left(100, 0) == pytest.approx(50.0, rel=1e-6)


def test_epoch_ends_cost_what_the_recent_ones_took() -> None:
    eta = Eta(started=100.0, window_s=20.0)
    for i in range(1, 11):  # an epoch of 10 steps at 2 steps/s, validation etc. for 3 s after
        eta.step(100.0 + i / 2, i)
    eta.epoch_end(now=108.0, step=10, train_seconds=5.0)
    assert eta.end_cost() == pytest.approx(3.0, rel=1e-6)
    # right after the end: the epoch's training pace (its validation is not training), the
    # steps left and 2 more ends
    assert eta.seconds_left(20, 2) == pytest.approx(20 / 2 + 2 * 3.0, rel=1e-6)
    # the next epoch's first steps count with the last epoch: 10 steps in 2 s more
    eta.step(109.0, 11)
    eta.step(111.0, 21)
    assert eta.rate() == pytest.approx(20 / 7, rel=1e-6)
    eta.epoch_end(now=111.5, step=21, train_seconds=2.2)  # 11 steps in 2.2 s, the end 1.3 s
    assert eta.end_cost() == pytest.approx((3.0 + 1.3) / 2, rel=1e-6)
    assert eta.rate() == pytest.approx(21 / 7.2, rel=1e-6)
    # epochs that ended longer than the window ago no longer count (the last one always does)
    eta.step(140.0, 22)
    assert eta.rate() == pytest.approx(11 / 2.2, rel=1e-6) and eta.end_cost() == pytest.approx(1.3, rel=1e-6)
    assert eta.seconds_left(0, 0) == 0.0


def test_the_page_counts_down_between_status_writes() -> None:
    from dashboard.sections.train import eta_now

    assert eta_now({"eta_s": 30.0, "written": 100.0}, now=104.0) == pytest.approx(26.0, rel=1e-6)
    assert eta_now({"eta_s": 3.0, "written": 100.0}, now=110.0) == 0.0
    assert eta_now({"eta_s": 30.0}, now=1e9) == 30.0  # a status written before the field existed
