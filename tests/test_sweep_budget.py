"""A random/TPE sweep under an epoch budget, and proposals of a point already trained: answered
from the earlier trial instead of trained again (what lets TPE search 12 points in half the
grid's epochs, tests/bench/sweeps.py sweep_prune)."""
from __future__ import annotations

import json

import pytest

from core.cli import main
from core.runs.store import RunStore
from core.sweeps import results
from core.sweeps.study import load
from core.sweeps.worker import Worker, counted, within_budget
from tests.sweep_records import finished_sweep

TINY = ("--param", "hidden=[16]")


def test_a_budget_run_trains_within_it_and_answers_repeated_points(settings, capsys) -> None:
    assert main(["sweep", "run", "--model", "mlp", *TINY, "--grid", "lr=0.01,0.003", "--search", "random",
                 "--trials", "4", "--epoch-budget", "3", "--epochs", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    sweep = load(settings.workspace, out["sweep"])
    rows = results.trials(settings.workspace, sweep)
    trained = [r for r in rows if r["same_as"] is None]
    runs = RunStore(settings.runs_dir).list()
    assert len(trained) == len(runs) == 2  # two points: the third epoch of the budget has no new point
    epochs = sum(1 for run in runs for m in run.metrics() if m["type"] == "epoch")
    assert epochs == 2 <= sweep.epoch_budget
    by_number = {r["number"]: r for r in rows}
    for r in rows:
        if r["same_as"] is not None:
            origin = by_number[r["same_as"]]
            assert r["run"] is None and r["params"] == origin["params"]
            if r["state"] == "fail":  # proposed while its twin still trained: no value to take
                assert r["value"] is None
            else:
                assert r["state"] == origin["state"] and r["value"] == origin["value"]
    assert {t["number"]: t["same_as"] for t in out["trials"]} == {r["number"]: r["same_as"] for r in rows}
    assert out["summary"]["ended"] == 2


def test_the_budget_counts_reported_and_reserved_epochs(settings) -> None:
    import optuna

    sweep = finished_sweep(settings.workspace, [(0.01, [16], 0.9)])  # one trial, 1 epoch reported
    study = Worker(settings, sweep).study
    sweep.epoch_budget = 2
    assert within_budget(sweep, study.get_trials())  # 1 spent + 1 new
    running = study.ask()  # a trial of 1 epoch starts: its epoch is reserved
    assert not within_budget(sweep, study.get_trials())
    sweep.epoch_budget = 3
    assert within_budget(sweep, study.get_trials())
    running.report(0.5, 1)  # reported: now spent, no longer reserved
    assert within_budget(sweep, study.get_trials())
    sweep.epoch_budget = 2
    assert not within_budget(sweep, study.get_trials())
    sweep.epoch_budget = 3
    copy = optuna.trial.create_trial(params=study.trials[0].params, distributions=study.trials[0].distributions,
                                     value=0.9, intermediate_values={1: 0.9}, user_attrs={"same_as": 0})
    study.add_trial(copy)
    assert within_budget(sweep, study.get_trials())  # an answered copy trained nothing
    assert counted(study.get_trials()) == 2  # the finished one and the running one


def test_a_sampler_that_only_repeats_a_trained_point_ends_the_sweep(settings) -> None:
    sweep = finished_sweep(settings.workspace, [(0.01, [16], 0.9)])  # a space of one point, trained
    sweep.n_trials = 3
    lines: list[str] = []
    worker = Worker(settings, sweep, echo=lines.append)
    worker.work()
    assert worker.exhausted and not (settings.workspace / "runs").exists()
    rows = results.trials(settings.workspace, sweep)
    assert rows[0]["same_as"] is None and all(r["same_as"] == 0 and r["value"] == 0.9 for r in rows[1:])
    assert len(rows) == 1 + 50 and lines[-1].startswith("the sampler proposed 50 points in a row")


@pytest.mark.parametrize("args, message", [
    (["--grid", "lr=0.01,0.003", "--epoch-budget", "4"], "error: an epoch budget needs random or TPE search"),
    (["--grid", "lr=0.01,0.003", "--search", "random", "--trials", "2", "--epochs", "3", "--epoch-budget", "2"],
     "error: an epoch budget of 2 is less than one trial's 3 epochs"),
    (["--grid", "lr=0.01,0.003", "--search", "random", "--trials", "2", "--epoch-budget", "-1"],
     "error: the epoch budget must be between 0 (none) and "),
])
def test_bad_budget_is_one_line(settings, capsys, args, message) -> None:
    assert main(["sweep", "create", *args]) == 2
    assert capsys.readouterr().err.startswith(message)


def test_the_sweep_form_takes_an_epoch_budget(settings) -> None:
    from tests.apptest_helpers import open_page

    at = open_page("sweep")
    assert at.number_input(key="sweep_budget").disabled  # a grid trains every point
    at.selectbox(key="sweep_search").set_value("tpe").run()
    at.number_input(key="sweep_trials").set_value(12).run()
    at.number_input(key="sweep_epochs").set_value(2).run()
    at.number_input(key="sweep_budget").set_value(12).run()
    captions = " ".join(c.value for c in at.caption)
    assert "**12 trials** within 12 epochs (6 trained in full)" in captions, captions
    at.number_input(key="sweep_budget").set_value(1).run()
    assert at.error[0].value == "An epoch budget of 1 is less than one trial's 2 epochs"


def test_the_median_pruner_waits_for_a_third_of_the_affordable_trials(settings) -> None:
    import optuna

    from core.sweeps.study import Pruner, affordable_trials, pruner

    sweep = finished_sweep(settings.workspace)  # 6 trials of 1 epoch
    sweep.pruner, sweep.n_trials, sweep.epoch_budget = Pruner.MEDIAN, 12, 6
    assert affordable_trials(sweep) == 6
    study = optuna.create_study(direction="maximize", pruner=pruner(sweep))
    for value in (0.9, 0.8):
        study.add_trial(optuna.trial.create_trial(value=value, intermediate_values={1: value}))
        late = study.ask()
        late.report(0.5, 1)  # worse than every other trial at epoch 1
        # pruned only once two others (6 // 3) reported that epoch, not against one
        assert late.should_prune() == (value == 0.8)
        study.tell(late, state=optuna.trial.TrialState.FAIL)


@pytest.mark.parametrize("budget, spent", [(6, True), (8, False)])
def test_the_sweep_page_says_when_the_budget_is_spent(settings, budget, spent) -> None:
    from tests.apptest_helpers import open_page

    sweep = finished_sweep(settings.workspace, n_trials=12, epoch_budget=budget)  # 6 trials, 1 epoch each
    at = open_page("sweep", sweep=sweep.id)
    (bar,) = [p for p in at.get("progress") if "trials ended" in p.proto.text]
    assert bar.proto.text == ("6 of 12 trials ended (6 complete); 6 of its "
                              f"{budget} epochs used" + (": the budget is spent" if spent else ""))
    assert (bar.proto.value == 100) == spent
    assert any(b.key == f"sweep_resume_{sweep.id}" for b in at.button) != spent
