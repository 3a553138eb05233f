"""Replay a TPE sweep over many sampler seeds on a grid already trained (sweep_prune's spread).

One real TPE sweep is one draw: it reaches the grid's best or it does not. The replay asks the
same question for many seeds without training again: each trial's validation metric at each
epoch, and each epoch's seconds, come from the grid's own runs of that point; everything else is
the product's code: the sweep's sampler and pruner (core.sweeps.study), the epoch budget
(worker.within_budget, worker.counted) and answered repeats (worker.answer_from_earlier). What is
modelled is time only: N trials at once, each starting after START_S of process start-up, then
its epochs at their measured seconds, so a slow model reports its first epoch after fast ones
(the order the pruner sees).
"""
from __future__ import annotations

import dataclasses
import heapq
import json
from pathlib import Path

START_S = 5.0  # a trial's process start-up (import torch, load the data), about this here


def grid_table(workspace: Path, grid: dict) -> dict[str, list[tuple[float, float]]]:
    """Per grid point (its params as JSON): [(val metric, epoch seconds), ...] from its run."""
    table = {}
    for t in grid["trials"]:
        lines = (workspace / "runs" / t["run"] / "metrics.jsonl").read_text().splitlines()
        epochs = [json.loads(x) for x in lines if '"type": "epoch"' in x]
        table[json.dumps(t["params"], sort_keys=True)] = [(e[grid["metric"]], e["seconds"]) for e in epochs]
    return table


def replay(sweep, table: dict, seed: int, parallel: int = 2) -> tuple[float, int]:
    """(best value found, epochs trained) of the sweep run with the sampler seeded `seed`."""
    import optuna

    from core.sweeps import study as studies
    from core.sweeps.worker import answer_from_earlier, counted, within_budget

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    sweep = dataclasses.replace(sweep, base={**sweep.base, "seed": seed})
    study = optuna.create_study(direction="maximize" if sweep.maximize else "minimize",
                                sampler=studies.sampler(sweep), pruner=studies.pruner(sweep))
    dists = studies.distributions(sweep)
    clock, events, active, epochs, repeats = 0.0, [], {}, 0, 0
    while True:
        while len(active) < parallel and repeats < 50:
            trials = study.get_trials(deepcopy=False)
            if not (counted(trials) < sweep.n_trials and within_budget(sweep, trials)):
                break
            trial = study.ask(fixed_distributions=dists)
            if answer_from_earlier(study, sweep, trial) is not None:
                repeats += 1
                continue
            repeats = 0
            key = json.dumps(studies.decode(sweep.all_axes, trial.params), sort_keys=True)
            active[trial.number] = (trial, key)
            heapq.heappush(events, (clock + START_S + table[key][0][1], trial.number, 0))
        if not events:
            break
        clock, number, done = heapq.heappop(events)
        trial, key = active[number]
        value = table[key][done][0]
        epochs += 1
        trial.report(value, done + 1)
        if done + 1 == len(table[key]):
            study.tell(trial, value)
            del active[number]
        elif trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            del active[number]
        else:
            heapq.heappush(events, (clock + table[key][done + 1][1], number, done + 1))
    values = [t.value for t in study.trials if t.state.name == "COMPLETE"]
    return (max(values) if sweep.maximize else min(values)) if values else float("nan"), epochs
