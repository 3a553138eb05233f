"""Run folders under hostile conditions: damaged files, deleted runs, killed processes, two
trainers at once. Each case damages a real, trained run folder and checks the exact outcome."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import UserError
from core.runs.jobs import launch_training
from core.runs.lock import RunLock
from core.runs.store import RunState, open_store
from core.runs.table import run_row
from core.training import checkpoint
from core.training.config import TrainConfig, run_config
from core.training.runner import train_run
from tests.apptest_helpers import open_page
from tests.polling import wait_for

REPO = Path(__file__).resolve().parent.parent
TINY = dict(dataset="digits", model="mlp", model_params={"hidden": [16]}, epochs=1,
            batch_size=64, lr=1e-2, schedule="none", log_every=5)


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def one_line_error(out: subprocess.CompletedProcess, *needles: str) -> None:
    assert out.returncode == 2, (out.returncode, out.stdout[-2000:], out.stderr[-2000:])
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), out.stderr
    assert all(n in lines[0] for n in needles), lines[0]



@pytest.fixture
def trained(finished_run_folder: Path) -> Path:
    """One finished run folder (tests/conftest.py), copied into each test's workspace."""
    return finished_run_folder


@pytest.fixture
def run(trained: Path, settings):
    target = settings.runs_dir / trained.name
    shutil.copytree(trained, target)
    return open_store(settings).get(trained.name)


def _write(name: str, content: bytes | str):
    def damage(path: Path) -> None:
        (path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return damage


def _status(**fields):
    def damage(path: Path) -> None:
        status = json.loads((path / "status.json").read_text())
        (path / "status.json").write_text(json.dumps({**status, **fields}))
    return damage


def _folder_instead(name: str):
    def damage(path: Path) -> None:
        (path / name).unlink()
        (path / name).mkdir()
    return damage


def _remove(name: str):
    return lambda path: (path / name).unlink()


DAMAGE = {
    "config-not-json": (_write("config.json", b"\x00\xff{{ not json"), "config.json is not valid JSON"),
    "config-a-list": (_write("config.json", "[1, 2, 3]"), "config.json holds a JSON list, not an object"),
    "config-unreadable": (_folder_instead("config.json"), "config.json cannot be read"),
    "config-huge": (_write("config.json", "[" + "0," * 600_000 + "0]"), "config.json is larger than"),
    "status-a-string": (_write("status.json", '"running"'), "status.json holds a JSON str"),
    "status-missing": (_remove("status.json"), "status.json is missing"),
    "pid-not-integer": (_status(state="running", pid="abc"), "pid that is not an integer: 'abc'"),
    "pid-float": (_status(state="running", pid=1e30), "pid that is not an integer"),
    "pid-negative": (_status(state="running", pid=-5), "pid that is not a positive integer: -5"),
    "unknown-state": (_status(state="exploded"), "unknown state 'exploded'"),
    "heartbeat-text": (_status(heartbeat="soon"), "heartbeat that is not a number"),
    "progress-text": (_status(progress={"step": "x"}), "progress field that is not a number"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_run_is_listed_as_broken_and_can_be_deleted(run, settings, case: str) -> None:
    damage, reason = DAMAGE[case]
    damage(run.path)
    store = open_store(settings)
    (listed,) = [r for r in store.list() if not r.read_only]
    assert listed.id == run.id and reason in listed.problem()
    assert listed.status() == {"state": RunState.BROKEN, "error": listed.problem()}
    row = run_row(listed)
    assert row["status"] == "broken" and reason in row["problem"] and row["resumable"] is False
    assert listed.metrics() and listed.name() == run.id  # readers do not raise
    assert store.get(run.id).id == run.id
    with pytest.raises(UserError):
        launch_training(listed, settings, resume=True)
    listed.delete()
    assert not run.path.exists() and store.find(run.id) is None


def test_a_stricter_rule_never_turns_an_old_run_broken(run, settings) -> None:
    """config.json is read leniently: a value a newer rule refuses, or a setting this version
    does not know, leaves the run usable; only the edges that create runs judge settings."""
    config = json.loads((run.path / "config.json").read_text())
    (run.path / "config.json").write_text(json.dumps({**config, "lr": 50.0, "epochz": 3}))
    with pytest.raises(UserError, match="learning rate"):
        TrainConfig.from_dict({**config, "lr": 50.0})  # a new run with it is refused
    listed = open_store(settings).get(run.id)
    assert listed.problem() is None and run_row(listed)["status"] == "done"
    assert run_config(listed).lr == 50.0 and run_config(listed).epochs == config["epochs"]
    (run.path / "config.json").write_text(json.dumps({**config, "epochs": "many"}))
    with pytest.raises(UserError, match=f"run {run.id}: unusable training settings: epochs must be"):
        run_config(listed)  # a value of the wrong type cannot be used at all


@pytest.mark.parametrize("case", ["config-a-list", "pid-not-integer"])
def test_the_cli_refuses_to_resume_a_damaged_run_in_one_line(run, case: str) -> None:
    DAMAGE[case][0](run.path)
    files = lambda: {p.name: p.stat().st_mtime_ns for p in run.path.iterdir()
                     if p.name != "train.lock"}
    before = files()
    one_line_error(cli("train", "--resume", run.id), run.id, DAMAGE[case][1])
    if case.startswith("config"):  # without a config no page or command can use the run
        one_line_error(cli("evaluate", run.id), run.id)
    assert files() == before  # nothing written but the lock the refusal took


def test_junk_metrics_lines_are_skipped_not_fatal(run) -> None:
    good = run.metrics()
    junk = [b"[1, 2]", b'"text"', b"NaN", b'{"type": "epoch", "step": "x"}', b'{"type": "x", "step": 1}',
            b'{"step": 3}', b"\xff\xfe not utf-8", b"{" * 100_000, b'{"type": "step", "step": 99, '
            b'"train_loss": "high", "epoch": 0.5}']
    with open(run.path / "metrics.jsonl", "ab") as f:
        f.write(b"\n".join(junk) + b"\n")
    records = run.metrics()
    assert records[:len(good)] == good
    (extra,) = records[len(good):]  # the last line keeps its numeric fields only
    assert extra == {"type": "step", "step": 99, "epoch": 0.5}
    assert run.problem() is None and run_row(run)["status"] == "done"


def test_a_deleted_run_is_a_clean_error_and_can_be_dropped(run, settings) -> None:
    store = open_store(settings)
    run.delete()
    assert store.find(run.id) is None
    with pytest.raises(UserError, match=f"no run '{run.id}'"):
        store.get(run.id)
    for bad in ("../runs", "", ".hidden", "a/b", "x" * 300, None):
        assert store.find(bad) is None


def test_kill_9_before_the_first_checkpoint_is_not_resumable(settings) -> None:
    store = open_store(settings)
    run = store.create(TrainConfig(**{**TINY, "epochs": 500}))
    pid = launch_training(run, settings)
    os.kill(pid, signal.SIGKILL)  # still importing torch: nothing written yet
    wait_for(lambda: run.status()["state"] == RunState.INTERRUPTED)
    assert not run.checkpoint("last").exists() and run.resumable() is False
    assert run_row(run)["resumable"] is False
    one_line_error(cli("train", "--resume", run.id), "no checkpoint to resume from")
    assert run.status()["state"] == RunState.INTERRUPTED  # the refusal did not mark it failed
    with pytest.raises(UserError, match="no checkpoint to resume from"):
        launch_training(run, settings, resume=True)


def test_a_locked_run_is_refused_and_a_stale_lock_taken_over(run, settings) -> None:
    run.write_status(state=RunState.STOPPED)
    assert run.resumable()
    with RunLock(run.path):
        assert run.trainer_pid() == os.getpid() and not run.resumable()
        one_line_error(cli("train", "--resume", run.id), "already being trained by process "
                       f"{os.getpid()}")
        with pytest.raises(UserError, match="already being trained"):
            launch_training(run, settings, resume=True)
        with pytest.raises(UserError, match="still running"):
            run.delete()
    assert run.status()["state"] == RunState.STOPPED  # the refused CLI wrote nothing
    # a lock file left by a process that is gone (kill -9 leaves the file, not the lock)
    (run.path / "train.lock").write_text("999999999 elsewhere\n")
    assert run.trainer_pid() is None
    state, _ = train_run(run, TrainConfig(**{**TINY, "epochs": 2}), resume=True)
    assert state == "done" and run.trainer_pid() is None


def test_two_resumes_at_once_only_one_trains(run, settings) -> None:
    run.write_status(state=RunState.STOPPED)
    cmd = [sys.executable, "-m", "core", "train", "--resume", run.id, "--epochs", "400"]
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    try:
        loser_out = wait_for(lambda: next((p for p in procs if p.poll() is not None), None), timeout=240)
        winner = next(p for p in procs if p is not loser_out)
        _, err = loser_out.communicate()
        assert loser_out.returncode == 2 and len(err.strip().splitlines()) == 1, err
        assert f"already being trained by process {winner.pid}" in err
        assert winner.poll() is None and run.trainer_pid() == winner.pid
    finally:
        run.request_stop()
        for p in procs:
            p.communicate(timeout=120)
    assert winner.returncode == 0 and run.status()["state"] == RunState.STOPPED


def test_a_vae_blowing_up_with_adam_ends_diverged_without_a_traceback(settings) -> None:
    out = cli("train", "--model", "vae", "--param", "channels=[8,16]", "--optimizer", "adam",
              "--lr", "5", "--schedule", "none", "--epochs", "2")
    assert out.returncode == 3 and "Traceback" not in out.stderr, out.stderr[-3000:]
    (run,) = [r for r in open_store(settings).list() if not r.read_only]
    status = run.status()
    assert status["state"] == RunState.DIVERGED and status.get("error") is None
    for which in ("best", "last"):  # whatever was saved before the blow-up is finite
        if run.checkpoint(which).exists():
            weights = checkpoint.load(run.checkpoint(which))["model"]
            assert all(bool(t.isfinite().all()) for t in weights.values())


def test_a_vae_diverging_after_good_epochs_keeps_their_checkpoints(settings) -> None:
    store = open_store(settings)
    # one-cycle SGD: good epochs while the rate warms up, then NaN reconstructions. At a peak of
    # 1.0 one machine diverged and another finished; 3.0 diverges after 2 epochs here and 4.0
    # after 1, so the peak sits well inside the range where it must diverge
    run = store.create(TrainConfig(dataset="digits", model="vae", model_params={"channels": [8, 16]},
                                   optimizer="sgd", lr=3.0, momentum=0.99, schedule="onecycle",
                                   epochs=10, threads=1))
    state, trainer = train_run(run, run_config(run))
    assert state == "diverged" and trainer.epoch >= 1
    assert run.status()["state"] == RunState.DIVERGED and run.status().get("error") is None
    last = checkpoint.load(run.checkpoint("last"))
    assert last["epoch"] == trainer.epoch and run.resumable()
    model = checkpoint.model_from_checkpoint(checkpoint.load(run.checkpoint("best")))
    assert all(bool(p.isfinite().all()) for p in model.parameters())


def test_a_classifier_at_chance_level_is_flagged(settings) -> None:
    store = open_store(settings)
    # Adam at lr 10: the first epoch's loss is ~600, then it sits at chance and ends "done"
    bad = store.create(TrainConfig(**{**TINY, "optimizer": "adam", "lr": 10.0, "epochs": 2}))
    state, _ = train_run(bad, run_config(bad))
    assert state == "done"
    (warning,) = bad.status()["warnings"]
    assert warning.startswith("accuracy at chance level") and warning in run_row(bad)["warnings"]
    at = open_page("train")  # the Train page that started it says so too
    at.session_state["model.train.watched"] = [bad.id]
    at.run()
    assert any(w.value.startswith("Accuracy at chance level") for w in at.warning), at.warning
    good = store.create(TrainConfig(**{**TINY, "epochs": 2}))
    assert train_run(good, run_config(good))[0] == "done"
    assert good.status().get("warnings") is None and run_row(good)["warnings"] is None


def test_an_autoencoder_no_better_than_the_mean_image_is_flagged(settings) -> None:
    store = open_store(settings)
    ae = dict(TINY, model="mlp_ae", model_params={"hidden": [32], "code_dim": 8}, epochs=4)
    bad = store.create(TrainConfig(**{**ae, "lr": 10.0}))  # dead ReLUs: a constant output
    assert train_run(bad, run_config(bad))[0] == "done"
    (warning,) = bad.status()["warnings"]
    assert warning.startswith("reconstruction no better than the mean image")
    good = store.create(TrainConfig(**ae))
    assert train_run(good, run_config(good))[0] == "done"
    assert good.status().get("warnings") is None


def test_the_runs_page_lists_and_deletes_a_run_with_a_junk_pid(run) -> None:
    from tests.apptest_helpers import open_page

    DAMAGE["pid-not-integer"][0](run.path)
    at = open_page("runs")
    table = at.dataframe[0].value
    (row,) = table[table["name"] == run.id].to_dict("records")
    assert row["status"] == "broken" and "pid that is not an integer" in row["problem"]
    at.multiselect(key="runs_selected").set_value([run.id]).run()
    assert not at.exception
    at.checkbox(key=f"confirm_{run.id}").check().run()
    at.button(key=f"del_{run.id}").click().run()
    assert not at.exception and not run.path.exists()
    assert run.id not in set(at.dataframe[0].value["name"])
