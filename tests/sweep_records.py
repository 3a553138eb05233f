"""A finished sweep written straight into its Optuna study (no training): for pages that only
read a sweep's trials, e.g. the parallel-coordinates brush."""
from __future__ import annotations

from pathlib import Path

from core.sweeps.study import SweepDef

# (lr, hidden sizes, val_acc): six trials, every value distinct
TRIALS = [(0.01, [16], 0.91), (0.01, [32], 0.95), (0.003, [16], 0.82),
          (0.003, [32], 0.88), (0.001, [16], 0.55), (0.001, [32], 0.63)]


def finished_sweep(workspace: Path, trials=TRIALS, n_trials: int = 0, epoch_budget: int = 0) -> SweepDef:
    import optuna

    from core.sweeps.axes import Search, make_axis
    from core.sweeps.study import define, distributions, encode, open_study, save_new
    from core.training.config import TrainConfig

    axes = [make_axis("lr", sorted({t[0] for t in trials})),
            make_axis("param.hidden", sorted({tuple(t[1]) for t in trials}))]
    sweep = save_new(workspace, define(TrainConfig(model="mlp", epochs=1), axes, Search.RANDOM,
                                       n_trials=n_trials or len(trials), epoch_budget=epoch_budget))
    study, dists = open_study(workspace, sweep), distributions(sweep)
    for lr, hidden, value in trials:
        study.add_trial(optuna.trial.create_trial(
            params={"lr": lr, "param.hidden": encode(axes[1], hidden)}, distributions=dists,
            value=value, intermediate_values={1: value}))
    return sweep
