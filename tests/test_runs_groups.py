"""Runs grouped by a field (a sweep, or any config field): count, mean and spread of the best
metric per group, in core (checked against numpy) and on the Runs page."""
from __future__ import annotations

import numpy as np
import pytest

from core.runs.query import NONE, group_fields, groups
from core.runs.store import open_store
from core.training.config import TrainConfig
from core.training.runner import train_run
from tests.apptest_helpers import open_page


def _run(store, best, monitor="val_acc", **fields):
    """A run folder as the store writes it, its status holding the best metric it reached."""
    run = store.create(TrainConfig(**{"dataset": "digits", "model": "mlp", "epochs": 1, **fields}))
    run.write_status(state="done", best_metric=best, monitor=monitor)
    return run


def test_groups_by_sweep_and_by_a_field_with_mean_and_spread(settings) -> None:
    store = open_store(settings)
    a = [_run(store, b, lr=lr, sweep=f"20260101-000000-aaaaaa#{i}")
         for i, (b, lr) in enumerate([(0.91, 0.01), (0.95, 0.01), (0.82, 0.003)])]
    b = [_run(store, b, lr=0.003, sweep=f"20260102-000000-bbbbbb#{i}") for i, b in enumerate([0.7, 0.75])]
    lone = _run(store, None, lr=0.01)  # no best metric yet (e.g. still running)
    loss = _run(store, 0.2, monitor="val_loss", model="conv_ae", lr=0.01)  # another metric: its own group
    runs = [*a, *b, lone, loss]
    assert group_fields(runs)[:1] == ["sweep"] and {"lr", "model"} <= set(group_fields(runs))
    assert "seed" not in group_fields(runs)  # the same for all of them
    by_sweep = {(g["sweep"], g["metric"]): g for g in groups(runs, "sweep")}
    first = by_sweep[("20260101-000000-aaaaaa", "val_acc")]
    assert (first["runs"], first["scored"]) == (3, 3)
    assert first["mean"] == pytest.approx(np.mean([0.91, 0.95, 0.82]), rel=1e-6)
    assert first["std"] == pytest.approx(np.std([0.91, 0.95, 0.82], ddof=1), rel=1e-6)
    assert (first["min"], first["max"]) == (0.82, 0.95)
    assert by_sweep[("20260102-000000-bbbbbb", "val_acc")]["std"] == pytest.approx(np.std([0.7, 0.75], ddof=1))
    outside = by_sweep[(NONE, "val_acc")]
    assert (outside["runs"], outside["scored"], outside["mean"], outside["std"]) == (1, 0, None, None)
    assert by_sweep[(NONE, "val_loss")]["mean"] == pytest.approx(0.2)
    by_lr = {(g["lr"], g["metric"]): g for g in groups(runs, "lr")}
    assert by_lr[("0.003", "val_acc")]["runs"] == 3
    assert by_lr[("0.003", "val_acc")]["mean"] == pytest.approx(np.mean([0.82, 0.7, 0.75]), rel=1e-6)
    assert [g["runs"] for g in groups(runs, "lr")] == sorted((g["runs"] for g in groups(runs, "lr")), reverse=True)


def test_the_runs_page_groups_by_the_chosen_field(settings) -> None:
    store = open_store(settings)
    for lr in (0.0123, 0.0123, 0.0045):  # learning rates no shipped run has
        config = TrainConfig(dataset="digits?classes=1,7", model="mlp", model_params={"hidden": [8]},
                             epochs=1, schedule="none", lr=lr)
        assert train_run(store.create(config), config)[0] == "done"
    at = open_page("runs")
    assert at.selectbox(key="runs_group").value == "no grouping" and "lr" in at.selectbox(key="runs_group").options
    at.selectbox(key="runs_group").set_value("lr").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.columns) == ["lr", "metric", "runs", "scored", "mean", "std", "min", "max"]
    mine = [r for r in store.list() if r.config_dict().get("dataset") == "digits?classes=1,7"]
    bests = [r.status()["best_metric"] for r in mine if r.config_dict()["lr"] == 0.0123]
    (row,) = table[table["lr"] == "0.0123"].to_dict("records")
    assert (row["metric"], row["runs"], row["scored"]) == ("val_acc", 2, 2)
    assert row["mean"] == pytest.approx(np.mean(bests), rel=1e-6)
    assert row["std"] == pytest.approx(np.std(bests, ddof=1), rel=1e-6, abs=1e-12)
    assert at.session_state["runs_group"] == "lr"
    at.selectbox(key="runs_group").set_value("no grouping").run()
    assert "id" in at.dataframe[0].value.columns  # back to the runs table first
