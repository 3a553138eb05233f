"""Sweeps end to end: `python -m core sweep ...` as a user runs it, real trials on digits."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from core.runs.store import Run, RunStore
from core.training.config import run_config
from tests.polling import wait_for

REPO = Path(__file__).resolve().parent.parent
TINY = ("--param", "hidden=[16]")  # mlp with one small hidden layer


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def epoch_records(run: Run) -> list[dict]:
    return [m for m in run.metrics() if m["type"] == "epoch"]


def test_cli_grid_as_written_runs_to_the_end_and_equals_plain_train_runs(settings, capsys) -> None:
    out = run_cli("sweep", "run", "--grid", "model=mlp,default_cnn", "--grid", "lr=0.001,0.003",
                  "--epochs", "1", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    trials = result["trials"]
    assert [t["params"] for t in trials] == [
        {"model": m, "lr": lr} for m in ("mlp", "default_cnn") for lr in (0.001, 0.003)]
    assert {t["state"] for t in trials} == {"complete"}
    store = RunStore(settings.runs_dir)
    assert len(store.list()) == 4 and len({t["run"] for t in trials}) == 4
    for number, t in enumerate(trials):
        run = store.get(t["run"])
        config = run_config(run)
        assert config.sweep == f"{result['sweep']}#{number}"
        assert (config.model, config.lr, config.epochs, config.dataset) == (
            t["params"]["model"], t["params"]["lr"], 1, "digits")
        assert t["value"] == pytest.approx(run.status()["best_metric"], rel=1e-9)
        if config.lr != 0.001:
            continue
        # the same config trained by the plain `train` command gives the same numbers (one
        # trial per model: each plain run is a full training)
        assert main(["train", "--model", config.model, "--lr", str(config.lr), "--epochs", "1"]) == 0
        plain_run = store.get(capsys.readouterr().out.split()[1])
        ours, theirs = epoch_records(run)[0], epoch_records(plain_run)[0]
        for key in ("train_loss", "val_loss", "val_acc"):
            assert ours[key] == pytest.approx(theirs[key], rel=1e-6), key
    best = max(trials, key=lambda t: t["value"])
    assert result["best"]["run"] == best["run"]
    out = run_cli("sweep", "best", result["sweep"], "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["run"] == best["run"]


def test_pruning_stops_a_hopeless_trial_and_says_why(settings) -> None:
    out = run_cli("sweep", "run", "--model", "mlp", *TINY, "--grid", "lr=0.01,0.00001",
                  "--epochs", "4", "--prune", "median", "--parallel", "1", "--json")
    assert out.returncode == 0, out.stderr
    good, hopeless = json.loads(out.stdout)["trials"]
    assert good["state"] == "complete" and hopeless["state"] == "pruned"
    assert hopeless["pruned"].startswith("median pruner at epoch 1: val_acc ")
    assert "is worse than the median" in hopeless["pruned"]
    run = RunStore(settings.runs_dir).get(hopeless["run"])
    assert [m["epoch"] for m in epoch_records(run)] == [1]  # stopped in its second epoch
    assert run.status()["state"] == "stopped" and run.status()["pruned"] == hopeless["pruned"]
    assert len(epoch_records(RunStore(settings.runs_dir).get(good["run"]))) == 4


def _create(*args: str) -> str:
    out = run_cli("sweep", "create", "--model", "mlp", *TINY, *args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["sweep"]


def _work(sweep_id: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "core", "sweep", "work", sweep_id, *args],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _trials_now(settings, sweep_id: str) -> list[dict]:
    """The trials as `sweep status` lists them, read in this process (fast enough to poll)."""
    from core.sweeps import results
    from core.sweeps import study as studies

    return results.trials(settings.workspace, studies.load(settings.workspace, sweep_id))


def _status(sweep_id: str) -> dict:
    out = run_cli("sweep", "status", sweep_id, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_two_workers_share_one_journal_and_a_killed_worker_loses_nothing(settings) -> None:
    sweep_id = _create("--grid", "lr=0.001,0.003,0.01", "--grid", "seed=0,1", "--epochs", "4")
    first = _work(sweep_id, "--parallel", "1")
    try:
        # once the first worker trains a trial, kill it outright: its trial's run goes on (read
        # in this process: a `sweep status` call takes longer than a trial forked warm)
        wait_for(lambda: any(t["state"] == "running" and t["run"] for t in _trials_now(settings, sweep_id)),
                 timeout=120, every=0.05)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        second = _work(sweep_id, "--parallel", "1")
        wait_for(lambda: (settings.workspace / "sweeps" / sweep_id / "workers" /
                          f"{socket.gethostname()}-{second.pid}.json").exists(), timeout=120, every=0.1)
        third = _work(sweep_id, "--parallel", "1")
        errs = []
        for proc in (second, third):
            _, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err
            errs.append(err)
        # the killed worker is not counted; the third is told the second shares the study
        assert "other worker" not in errs[0].splitlines()[0]
        assert errs[1].splitlines()[0] == (f"note: 1 other worker(s) already work on sweep {sweep_id}; "
                                           "they share its trials, none runs twice")
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    trials = _status(sweep_id)["trials"]
    complete = [t for t in trials if t["state"] == "complete"]
    points = [json.dumps(t["params"], sort_keys=True) for t in complete]
    assert len(points) == 6 and len(set(points)) == 6  # every grid point once, none twice
    runs = RunStore(settings.runs_dir).list()
    assert len({t["run"] for t in complete}) == 6
    assert {r.id for r in runs} >= {t["run"] for t in complete}
    for run in runs:  # every run folder belongs to a trial: nothing trained twice or orphaned
        assert run_config(run).sweep.startswith(f"{sweep_id}#")
        assert run.status()["state"] in ("done", "stopped")


def test_stop_then_resume_finishes_the_sweep(settings) -> None:
    sweep_id = _create("--grid", "lr=0.001,0.003", "--epochs", "100")
    worker = _work(sweep_id, "--parallel", "2")
    try:
        wait_for(lambda: sum(t["state"] == "running" and bool(t["run"])
                             for t in _trials_now(settings, sweep_id)) == 2, timeout=120, every=0.05)
        out = run_cli("sweep", "stop", sweep_id)
        assert out.returncode == 0 and "resumes it" in out.stdout
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    stopped = _status(sweep_id)["trials"]
    assert {t["state"] for t in stopped} == {"fail"}
    out = run_cli("sweep", "run", sweep_id, "--json")
    assert out.returncode == 0, out.stderr
    trials = json.loads(out.stdout)["trials"]
    complete = [t for t in trials if t["state"] == "complete"]
    assert sorted(t["params"]["lr"] for t in complete) == [0.001, 0.003]
    # resumed from their checkpoints: the same two run folders, trained to the end
    assert {t["run"] for t in complete} <= {t["run"] for t in stopped}
    for t in complete:
        run = RunStore(settings.runs_dir).get(t["run"])
        assert [m["epoch"] for m in epoch_records(run)] == list(range(1, 101))


@pytest.mark.parametrize("args, message", [
    (["--grid", "lr="], "error: axis lr is empty: give at least one value"),
    (["--grid", "colour=1,2"], "error: an axis on unknown option 'colour'; options: model, "),
    (["--grid", "lr=0.01,-1"], "error: lr=-1: invalid training settings: learning rate must be in (0, 10]"),
    (["--grid", "data.size=2"], "error: data.size=2: "),
    (["--grid", "lr=0.01", "--storage", "sqlite:////no/such/folder/x.db"],
     "error: cannot open the sweep's storage sqlite:////no/such/folder/x.db: OperationalError"),
    (["--grid", "lr=" + ",".join(f"{i / 1000:.3f}" for i in range(1, 101)),
      "--grid", "seed=" + ",".join(map(str, range(100)))],
     "error: 10,000 trials would take about "),
    (["--axis", "lr=log:0.0001..0.1"], "error: tpe search needs a number of trials (--trials N)"),
])
def test_bad_input_is_one_line(settings, capsys, args, message) -> None:
    assert main(["sweep", "create", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message), err
    assert len(err.strip().splitlines()) == 1
    assert not (settings.workspace / "runs").exists()


def test_corrupt_or_foreign_journal_is_one_line(settings) -> None:
    a, b = _create("--grid", "lr=0.001"), _create("--grid", "lr=0.003")
    journal_a = settings.workspace / "sweeps" / a / "journal.log"
    journal_b = settings.workspace / "sweeps" / b / "journal.log"
    journal_b.write_bytes(journal_a.read_bytes())  # another sweep's study
    out = run_cli("sweep", "status", b)
    assert out.returncode == 2 and f"holds no study sweep-{b}: it is corrupt" in out.stderr
    journal_a.write_bytes(b"\x00\x01 not a journal")
    out = run_cli("sweep", "work", a)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    out = run_cli("sweep", "status", "no-such-sweep")
    assert out.returncode == 2 and out.stderr.startswith("error: no sweep 'no-such-sweep'")


def test_readme_k49_recipe_runs_the_12_variants(settings, data_root: Path) -> None:
    """The README's command as written, on a small K49-format root this test writes."""
    import shlex

    from tests import data_writers as dw

    text = (REPO / "README.md").read_text().replace("\\\n", " ")
    (line,) = [ln for ln in text.splitlines() if "sweep run --dataset \"k49?root=data/k49\"" in ln]
    dw.write_k49(data_root / "k49", n_train=98, n_test=49)
    args = shlex.split(line.replace("data/k49", str(data_root / "k49")))
    assert args[:3] == ["python", "-m", "core"]
    out = run_cli(*args[3:], "--json", timeout=900)
    assert out.returncode == 0, out.stderr
    trials = json.loads(out.stdout)["trials"]
    assert len(trials) == 12 and {t["state"] for t in trials} == {"complete"}
    variants = {(p["model+optimizer"][0], p["model+optimizer"][1]) for p in (t["params"] for t in trials)}
    assert len(variants) == 12 and ("NN_dense_batchnorm", "adam") in variants
    store = RunStore(settings.runs_dir)
    for t in trials:
        config = run_config(store.get(t["run"]))
        assert [config.model, config.optimizer] == t["params"]["model+optimizer"]
        assert (config.epochs, config.batch_size) == (10, 128) and config.dataset.startswith("k49?")


def test_an_invalid_combination_fails_with_one_line_and_the_others_go_on(settings) -> None:
    out = run_cli("sweep", "run", "--grid", "model=default_cnn,mlp", *TINY, "--epochs", "1", "--json")
    assert out.returncode == 0, out.stderr
    bad, good = json.loads(out.stdout)["trials"]
    assert bad["state"] == "fail" and good["state"] == "complete"
    assert bad["error"] == "model 'default_cnn' has no parameter 'hidden'; its parameters: channels, dense, dropout"


def test_a_trial_folder_deleted_mid_sweep_fails_that_trial_only(settings) -> None:
    import shutil

    sweep_id = _create("--grid", "lr+epochs=0.01/300,0.003/1")
    worker = _work(sweep_id, "--parallel", "1")
    try:
        wait_for(lambda: _trials_now(settings, sweep_id)[0]["run"] is not None, timeout=120, every=0.05)
        folder = settings.runs_dir / _status(sweep_id)["trials"][0]["run"]
        wait_for(lambda: (folder / "metrics.jsonl").exists(), timeout=120, every=0.1)
        wait_for(lambda: (shutil.rmtree(folder, ignore_errors=True), not folder.exists())[1],
                 timeout=60, every=0.1)
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    first, second = _status(sweep_id)["trials"]
    assert first["state"] == "fail" and first["error"] == f"run folder {folder.name} was deleted while it trained"
    assert second["state"] == "complete"
