"""Pruning inside a trial's own training process, through the per-epoch callback.

The worker writes `trial.json` ({"sweep", "trial"}) into the run folder before it launches the
run; `python -m core train --run FOLDER` then wraps its per-epoch echo with `epoch_hook`, which
reports each epoch's metric to the study and, when the pruner says so, asks the run to stop
(the stop file, looked at from the next step on) and records why in the trial and the run.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from statistics import median

from core.io.atomic import read_json, write_json
from core.runs.store import Run

TRIAL_FILE = "trial.json"


def mark(run: Run, sweep_id: str, number: int) -> None:
    write_json(run.path / TRIAL_FILE, {"sweep": sweep_id, "trial": number})


def epoch_hook(run: Run, workspace: Path, echo: Callable[[dict], None]) -> Callable[[dict], None]:
    """echo, plus reporting to the sweep's study when the run is a sweep's trial."""
    info = read_json(run.path / TRIAL_FILE) or {}
    if not isinstance(info.get("sweep"), str) or not isinstance(info.get("trial"), int):
        return echo
    try:
        import optuna

        from core.sweeps import study as studies

        sweep = studies.load(workspace, info["sweep"])
        study = studies.open_study(workspace, sweep)
        trial = optuna.trial.Trial(study, study.get_trials(deepcopy=False)[info["trial"]]._trial_id)
    except Exception as exc:  # never stop training over the sweep's record
        print(f"warning: cannot report to sweep {info['sweep']}: {exc}", file=sys.stderr)
        return echo
    pruning = sweep.pruner != studies.Pruner.NONE

    def on_epoch(record: dict) -> None:
        echo(record)
        value, epoch = record.get(sweep.metric), int(record["epoch"])
        if not isinstance(value, (int, float)):
            return
        try:
            trial.report(float(value), epoch)
            if pruning and not run.stop_requested() and trial.should_prune():
                reason = why(study, sweep, info["trial"], epoch, float(value))
                trial.set_user_attr("pruned", reason)
                run.write_status(pruned=reason)
                run.request_stop()
                print(f"pruned: {reason}", flush=True)
        except Exception as exc:
            print(f"warning: cannot report to sweep {sweep.id}: {exc}", file=sys.stderr)

    return on_epoch


def why(study, sweep, number: int, epoch: int, value: float) -> str:
    """The pruner's decision in words: this trial's metric against the others at that epoch."""
    others = [t.intermediate_values[epoch] for t in study.get_trials(deepcopy=False)
              if t.number != number and epoch in t.intermediate_values]
    cut = f"the median {median(others):.4f} of {len(others)} other trial(s)" if others else "the others"
    if sweep.pruner == "median":
        return f"median pruner at epoch {epoch}: {sweep.metric} {value:.4f} is worse than {cut}"
    return (f"Hyperband pruner at epoch {epoch}: {sweep.metric} {value:.4f} is not among the best "
            f"of its bracket (others: {cut})")
