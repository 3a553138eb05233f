"""A sweep's rough wall time: trials x epochs x training images / the last measured images/s,
shared among the trials that run at once."""
from __future__ import annotations

import math
from statistics import median

from core.runs.status import RunState
from core.runs.store import RunStore
from core.runs.threads import machine_cores

FALLBACK_IMAGES_PER_S = 2000.0  # before any run was measured here (a small CNN on 2 cores)
STARTUP_S = 3.0  # one trial's process start, imports and dataset load from the cache
RECENT_RUNS = 20


def measured_images_per_s(store: RunStore, model: str | None = None) -> float | None:
    """The median images/s of the most recent finished runs (of this model, if any)."""
    seen, same = [], []
    for run in store.list()[:200]:
        status = run.status()
        ips = status.get("images_per_s")
        if status.get("state") != RunState.DONE or not isinstance(ips, (int, float)) or ips <= 0:
            continue
        seen.append(ips)
        try:
            if model and run.config_dict().get("model") == model:
                same.append(ips)
        except Exception:  # a damaged config: its speed still counts
            pass
        if len(seen) >= RECENT_RUNS:
            break
    chosen = same or seen
    return float(median(chosen)) if chosen else None


def wall_seconds(n_trials: int, epochs: int, n_train: int, images_per_s: float | None,
                 parallel: int) -> float:
    """Trials run `parallel` at once; each gets its share of the cores, so the whole sweep's
    throughput is about the measured images/s (measured with all cores) at best."""
    ips = images_per_s or FALLBACK_IMAGES_PER_S
    per_trial = epochs * n_train / ips
    waves = math.ceil(n_trials / max(1, parallel))
    return n_trials * per_trial + waves * STARTUP_S


def describe(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def cores() -> int:
    return machine_cores()
