"""Shared pieces of the benchmarks: a figure type, a timer, tmp folders and the 60k IDX set."""
from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.data_writers import write_mnist_idx


@dataclass
class Figure:
    """One measured quantity: all repeats, an optional goal and the baseline it is compared to."""

    bench: str
    name: str
    values: list[float] = field(default_factory=list)
    unit: str = "s"
    goal: float | None = None  # upper bound on the median
    baseline: str | None = None  # name of the Figure (same bench) this one is divided by
    ratio_goal: float | None = None  # upper bound on median / baseline median

    @property
    def median(self) -> float:
        return statistics.median(self.values)


def own_peak_rss_mib() -> float:
    """This process's own peak RSS (VmHWM). Not ru_maxrss: Linux carries the parent's peak
    across exec, so a child of a big process would report the parent's figure."""
    with open("/proc/self/status") as status:
        hwm = next(line for line in status if line.startswith("VmHWM:"))
    return int(hwm.split()[1]) / 1024  # kB


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


@contextmanager
def tmp_dir(prefix: str):
    """A temporary folder, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def write_mnist_60k(root: Path) -> Path:
    """root/MNIST/raw/* IDX files: 60,000 train + 10,000 test 28x28 images; returns root."""
    write_mnist_idx(root, n_train=60_000, n_test=10_000)
    return root


@contextmanager
def env_vars(**values: str):
    """Set environment variables for the block (core reads DASH_* through Settings.from_env)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
