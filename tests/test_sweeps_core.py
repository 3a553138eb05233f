"""Sweep definitions and results without training: axes files, joint axes, what differs, repeats."""
from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest

from core.cli import main
from core.errors import UserError
from core.sweeps import axes as ax
from core.sweeps import results
from core.sweeps.study import load


def _created(capsys) -> str:
    return json.loads(capsys.readouterr().out)["sweep"]


def test_axes_from_a_toml_file_with_search_settings(settings, tmp_path, capsys) -> None:
    path = tmp_path / "axes.toml"
    path.write_text('search = "random"\ntrials = 7\nrepeats = 2\nprune = "hyperband"\n'
                    '[axes]\nlr = {low = 0.0001, high = 0.1, log = true}\n'
                    '"param.hidden" = [[16], [32, 16]]\n"data.size" = [8, 12]\n')
    assert main(["sweep", "create", "--model", "mlp", "--axes", str(path), "--epochs", "3", "--json"]) == 0
    sweep = load(settings.workspace, _created(capsys))
    assert (sweep.search, sweep.n_trials, sweep.repeats, sweep.pruner, sweep.metric) == (
        "random", 7, 2, "hyperband", "val_acc")
    assert [a.name for a in sweep.all_axes] == ["lr", "param.hidden", "data.size", "seed"]
    config = ax.apply(sweep.base, {"lr": 0.01, "param.hidden": [32, 16], "data.size": 12, "seed": 1})
    assert (config.lr, config.model_params, config.dataset, config.seed) == (
        0.01, {"hidden": [32, 16]}, "digits?size=12", 1)


def test_a_json_axes_file_grid_counts_and_refusals(settings, tmp_path, capsys) -> None:
    path = tmp_path / "axes.json"
    path.write_text(json.dumps({"model+optimizer": ["mlp/sgd", "default_cnn/adam"], "batch_size": [32, 64]}))
    assert main(["sweep", "create", "--axes", str(path), "--repeats", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["trials"] == 12
    path.write_text(json.dumps({"axes": {"lr": [0.1]}, "colour": 1}))
    assert main(["sweep", "create", "--axes", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: --axes {path}: unknown key(s) colour; known: ")
    path.write_text("{not json")
    assert main(["sweep", "create", "--axes", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: --axes {path} is not valid JSON: ")


@pytest.mark.parametrize("text, message", [
    ("model+optimizer=mlp", "axis model+optimizer: each value sets 2 options"),
    ("lr=0.1,0.1", "axis lr repeats a value"),
    ("lr=0.1..0.01", "axis lr: a range needs low < high"),
    ("lr", "an axis is written NAME=V1,V2,... or NAME=LOW..HIGH"),
    ("sweep=a,b", "an axis on unknown option 'sweep'"),
])
def test_axis_text_refusals(text, message) -> None:
    with pytest.raises(UserError, match="^" + re.escape(message)):
        ax.parse_axis(text)


def test_bracketed_values_keep_their_commas() -> None:
    axis = ax.parse_axis("param.hidden=[64,32],[128]")
    assert axis.values == ((64, 32), (128,))


def _row(number, lr, seed, value, state="complete"):
    return {"number": number, "state": state, "params": {"lr": lr, "seed": seed, "model": "mlp"},
            "value": value, "retry_of": None}


def test_differing_best_so_far_and_repeats_match_numpy() -> None:
    rows = [_row(0, 0.1, 0, 0.5), _row(1, 0.1, 1, 0.7), _row(2, 0.01, 0, 0.9),
            _row(3, 0.01, 1, 0.8), _row(4, 0.001, 0, None, "pruned")]
    assert results.differing(rows) == ["lr", "seed"]
    assert results.best(rows, maximize=True)["number"] == 2
    assert results.best(rows, maximize=False)["number"] == 0
    assert results.best_so_far(rows, maximize=True) == [(0, 0.5), (1, 0.7), (2, 0.9), (3, 0.9)]
    groups = {g["params"]["lr"]: g for g in results.repeats(rows)}
    for lr, values in ((0.1, [0.5, 0.7]), (0.01, [0.9, 0.8])):
        assert groups[lr]["n"] == 2
        assert groups[lr]["mean"] == pytest.approx(np.mean(values), rel=1e-6)
        assert groups[lr]["std"] == pytest.approx(np.std(values, ddof=1), rel=1e-6)
    summary = results.summary(rows, 6)
    assert (summary["complete"], summary["pruned"], summary["ended"]) == (4, 1, 5)
    assert summary["fraction"] == pytest.approx(5 / 6)


def test_a_trial_run_whose_process_never_started_is_trained_where_it_is(settings) -> None:
    """A worker killed between making a trial's run folder and starting its process leaves a
    queued, empty folder: the retry trains that folder (never_started), not a new one beside it."""
    import socket
    import subprocess
    import sys

    from core.runs.process import identity
    from core.runs.status import RunState
    from core.runs.store import open_store
    from core.sweeps.worker import never_started
    from core.training.config import TrainConfig

    store = open_store(settings)
    run = store.create(TrainConfig(model="mlp", epochs=1))
    assert never_started(run)  # queued, no process ever recorded
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run.write_status(state=RunState.QUEUED, **identity(dead.pid), host=socket.gethostname())
    assert never_started(run)  # its recorded process is gone
    run.write_status(state=RunState.QUEUED, **identity(os.getpid()), host=socket.gethostname())
    assert not never_started(run)  # its process lives: it is starting, not to be started twice
    run.write_status(state=RunState.QUEUED, host=socket.gethostname())
    (run.path / "metrics.jsonl").write_text('{"type": "step", "step": 1}\n')
    assert not never_started(run)  # it trained: resumed from a checkpoint or left as it is
    (run.path / "metrics.jsonl").unlink()
    run.write_status(state=RunState.DONE, host=socket.gethostname())
    assert not never_started(run)
