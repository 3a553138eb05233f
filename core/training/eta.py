"""A live run's time left: the steps left at the run's own recent training pace, plus the epoch
ends left (validation, probe answers, checkpoints) at what its recent epoch ends took.

One pace over a window that sometimes spans an epoch end, sometimes not, mixes the two: a
window ending just after an epoch end counts its validation as slow training. Here training
time and epoch ends are kept apart: the pace is the steps over the training seconds of the
epochs that ended within `window_s` (at least the last one) and of the current epoch's logged
steps so far (within the window); an epoch end costs the mean of those epochs' ends.
"""
from __future__ import annotations

from collections import deque

WINDOW_S = 20.0  # the pace follows the run's throughput over about this much recent time


class Eta:
    def __init__(self, started: float, step: int = 0, window_s: float = WINDOW_S):
        self.window_s = window_s
        self.samples: deque[tuple[float, int]] = deque()  # (time, step) since the last epoch end
        self.epochs: deque[tuple[float, int, float, float]] = deque()  # (end, steps, training s, end s)
        self.last_end, self.last_end_step, self.now = started, step, started

    def step(self, now: float, step: int) -> None:
        """A training step done (any of them; logged ones are enough)."""
        self.now = max(self.now, now)
        samples = self.samples
        if not samples or step > samples[-1][1]:
            samples.append((now, step))
        while len(samples) > 2 and now - samples[1][0] >= self.window_s:
            samples.popleft()

    def epoch_end(self, now: float, step: int, train_seconds: float) -> None:
        """An epoch's record, after its validation: `train_seconds` of it were training steps;
        the rest of the time since the previous end (that end's checkpoint, this validation,
        the probes) is the cost of an epoch end."""
        self.now = max(self.now, now)
        steps = step - self.last_end_step
        if steps > 0 and train_seconds > 0:
            self.epochs.append((now, steps, train_seconds, max(0.0, now - self.last_end - train_seconds)))
        while len(self.epochs) > 1 and now - self.epochs[0][0] > self.window_s:
            self.epochs.popleft()
        self.last_end, self.last_end_step = now, step
        self.samples.clear()

    def _recent(self) -> list[tuple[float, int, float, float]]:
        return [e for e in self.epochs if self.now - e[0] <= self.window_s] or list(self.epochs)[-1:]

    def rate(self) -> float | None:
        """Steps a second of training over the recent epochs and the current one."""
        steps, seconds = 0, 0.0
        if len(self.samples) >= 2:
            (t0, s0), (t1, s1) = self.samples[0], self.samples[-1]
            steps, seconds = s1 - s0, t1 - t0
        for _end, n, train_s, _cost in self._recent():
            steps, seconds = steps + n, seconds + train_s
        return steps / seconds if steps > 0 and seconds > 0 else None

    def end_cost(self) -> float:
        """Seconds an epoch end takes beyond its training (0 before the first end)."""
        recent = self._recent()
        return sum(e[3] for e in recent) / len(recent) if recent else 0.0

    def seconds_left(self, steps_left: int, ends_left: int) -> float | None:
        """None until a pace is known."""
        rate = self.rate()
        if not rate:
            return None
        return max(0, steps_left) / rate + max(0, ends_left) * self.end_cost()
