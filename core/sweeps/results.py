"""What a sweep did: its trials as rows, the best, the fields that differ, importance."""
from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from statistics import mean, stdev

from core.sweeps import study as studies
from core.sweeps.study import SweepDef


class TrialState(StrEnum):
    """A trial's state as the table shows it (Optuna's, in its own words)."""

    WAITING = "waiting"
    RUNNING = "running"
    COMPLETE = "complete"
    PRUNED = "pruned"
    FAIL = "fail"


STATES = tuple(TrialState)


def trials(workspace: Path, sweep: SweepDef, study=None) -> list[dict]:
    """One row per trial: number, state, run, params, value, and why it ended when it did."""
    study = study or studies.open_study(workspace, sweep)
    rows = []
    for t in study.get_trials(deepcopy=False):
        a = t.user_attrs
        value = t.value if t.value is not None and math.isfinite(t.value) else None
        rows.append({"number": t.number, "state": t.state.name.lower(), "run": a.get("run"),
                     "params": studies.decode(sweep.all_axes, t.params), "value": value,
                     "epochs": {int(k): v for k, v in t.intermediate_values.items()},
                     "ended": a.get("ended"), "error": a.get("error"), "pruned": a.get("pruned"),
                     "retry_of": a.get("retry_of"), "same_as": a.get("same_as"),
                     "seconds": (t.datetime_complete - t.datetime_start).total_seconds()
                     if t.datetime_complete and t.datetime_start else None})
    return rows


def summary(rows: list[dict], n_trials: int) -> dict:
    """Counts per state and the fraction of the planned trials that have ended."""
    counts = {s: sum(r["state"] == s for r in rows) for s in STATES}
    replaced = {r["retry_of"] for r in rows if r["retry_of"] is not None}
    ended = sum(1 for r in rows if r["state"] in ("complete", "pruned", "fail") and r["number"] not in replaced
                and r.get("same_as") is None)
    return {"trials": n_trials, **counts, "ended": ended,
            "fraction": min(1.0, ended / n_trials) if n_trials else 0.0}


def epochs_used(rows: list[dict]) -> int:
    """Epochs the trials trained (reported per epoch); a trial answered from an earlier one
    (same_as) trained none."""
    return sum(len(r["epochs"]) for r in rows if r.get("same_as") is None)


def budget_spent(sweep: SweepDef, rows: list[dict]) -> bool:
    """Whether the sweep's epoch budget leaves no room for one more trial (never without one)."""
    return bool(sweep.epoch_budget) and epochs_used(rows) + studies.max_epochs(sweep) > sweep.epoch_budget


def best(rows: list[dict], maximize: bool) -> dict | None:
    done = [r for r in rows if r["state"] == "complete" and r["value"] is not None]
    if not done:
        return None
    return (max if maximize else min)(done, key=lambda r: r["value"])


def best_so_far(rows: list[dict], maximize: bool) -> list[tuple[int, float]]:
    """(trial number, best value among complete trials up to it), in trial order."""
    out, current = [], None
    for r in sorted(rows, key=lambda r: r["number"]):
        if r["state"] != "complete" or r["value"] is None:
            continue
        v = r["value"]
        current = v if current is None else (max(current, v) if maximize else min(current, v))
        out.append((r["number"], current))
    return out


def differing(rows: list[dict]) -> list[str]:
    """The params whose values are not all the same across the rows."""
    names = []
    for r in rows:
        names += [n for n in r["params"] if n not in names]
    return [n for n in names
            if len({json.dumps(r["params"].get(n), sort_keys=True) for r in rows}) > 1]


def repeats(rows: list[dict]) -> list[dict]:
    """Complete trials grouped by their params without the seed: mean and spread of the value."""
    groups: dict[str, list] = {}
    for r in rows:
        if r["state"] == "complete" and r["value"] is not None:
            key = {k: v for k, v in r["params"].items() if k != "seed"}
            groups.setdefault(json.dumps(key, sort_keys=True), []).append(r["value"])
    return [{"params": json.loads(k), "n": len(v), "mean": mean(v),
             "std": stdev(v) if len(v) > 1 else 0.0} for k, v in groups.items()]


def importance(workspace: Path, sweep: SweepDef) -> dict[str, float]:
    """Optuna's parameter importance (fANOVA) over complete trials; {} with too few."""
    import optuna

    study = studies.open_study(workspace, sweep)
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    varying = [a.name for a in sweep.all_axes
               if len({json.dumps(t.params.get(a.name)) for t in complete}) > 1]
    if len(complete) < 2 or not varying:
        return {}
    try:
        return dict(optuna.importance.get_param_importances(study, params=varying))
    except (RuntimeError, ValueError):
        return {}
