"""The training engine for real: short runs on digits, in-process and as separate processes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import UserError
from core.runs.jobs import launch_training
from core.runs.store import RunStore, open_store
from core.training import checkpoint
from core.training.config import TrainConfig, run_config
from core.training.runner import train_run
from tests.numbers import assert_records_match, assert_state_dicts_match, without_timings
from tests.polling import wait_for

REPO = Path(__file__).resolve().parent.parent
SMALL = dict(dataset="digits", model="mlp", model_params={"hidden": [32]}, epochs=3,
             batch_size=64, lr=1e-2, schedule="none", log_every=5)


def epochs(run) -> list[dict]:
    return [m for m in run.metrics() if m["type"] == "epoch"]



def test_config_round_trips_and_refuses_bad_settings() -> None:
    config = TrainConfig(**SMALL, normal_classes=("1", "2"), denoise="gaussian:0.3")
    assert TrainConfig.from_json(config.to_json()) == config
    with pytest.raises(UserError, match="learning rate"):
        TrainConfig(lr=0)
    with pytest.raises(UserError, match="denoise must look like"):
        TrainConfig(denoise="salt:2")
    with pytest.raises(UserError, match="unknown training setting"):
        TrainConfig.from_dict({"epochz": 3})


def test_loss_decreases_and_the_run_folder_is_complete(settings) -> None:
    store = open_store(settings)
    run = store.create(TrainConfig(**SMALL))
    state, trainer = train_run(run, run_config(run))
    assert state == "done" and run.status()["state"] == "done"
    records = epochs(run)
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert records[-1]["train_loss"] < 0.5 * records[0]["train_loss"]
    assert records[-1]["val_acc"] > 0.85
    steps = [m for m in run.metrics() if m["type"] == "step"]
    assert len(steps) >= 3 and all(m["step"] % 5 == 0 or m["step"] == 1 for m in steps)
    assert steps[0]["step"] == 1  # a live chart's first point comes after one batch
    status = run.status()
    assert status["best_metric"] == max(r["val_acc"] for r in records)
    assert status["progress"]["fraction"] == 1.0 and status["pid"] == os.getpid()
    best = checkpoint.load(run.checkpoint("best"))
    assert best["best_metric"] == status["best_metric"] and best["config"]["model"] == "mlp"
    assert set(best) >= {"model", "optimizer", "config", "epoch", "best_metric"}


def test_same_seed_same_metrics_other_seed_differs(settings) -> None:
    store = open_store(settings)
    a, b, c = (store.create(TrainConfig(**SMALL, seed=s)) for s in (1, 1, 2))
    for run in (a, b, c):
        train_run(run, run_config(run))
    strip = lambda r: without_timings(epochs(r))
    assert_records_match(strip(a), strip(b))
    assert strip(a) != strip(c)


@pytest.mark.parametrize("extra", [
    dict(model="mlp", model_params={"hidden": [32], "dropout": 0.3}, augment=True,
         schedule="onecycle"),
    dict(model="conv_ae", model_params={"channels": [8, 16], "code_dim": 16},
         denoise="gaussian:0.2", schedule="cosine"),
], ids=["classifier", "denoising-ae"])
def test_resume_equals_an_unbroken_run(settings, extra: dict) -> None:
    """The same history and weights when the thread count is the same in both (CPU kernels split
    their reductions by thread count): epochs and steps exactly, float reductions to rel 1e-6."""
    store = open_store(settings)
    config = TrainConfig(**{**SMALL, **extra, "epochs": 4, "threads": 2})
    unbroken = store.create(config)
    train_run(unbroken, config)
    broken = store.create(config)
    # stop during epoch 3 (the stop file is polled every 0.2 s), then resume from last.pt
    state, _ = train_run(broken, config, echo=lambda r: r["epoch"] == 2 and broken.request_stop())
    assert state == "stopped" and broken.status()["state"] == "stopped"
    assert checkpoint.load(broken.checkpoint("last"))["epoch"] == 2
    (broken.path / "stop").unlink()
    state, _ = train_run(broken, config, resume=True)
    assert state == "done"
    strip = lambda r: without_timings(epochs(r))
    assert_records_match(strip(broken), strip(unbroken))
    assert_state_dicts_match(checkpoint.load(unbroken.checkpoint("last"))["model"],
                             checkpoint.load(broken.checkpoint("last"))["model"])
    steps = [m["step"] for m in broken.metrics() if m["type"] == "step"]
    assert steps == sorted(set(steps))  # points of the stopped epoch were not logged twice


def test_resume_in_a_new_process_is_exact_with_pinned_threads(settings, monkeypatch) -> None:
    """As in use: stopped in one process, resumed by `python -m core train --resume` in another
    whose thread budget would give it one core; the pinned count holds, so the run is exact."""
    store = open_store(settings)
    # Four of the ten digits: the same promise on 40 % of the images (the slowest training test).
    config = TrainConfig(**{**SMALL, "dataset": "digits?classes=0,1,2,3", "model": "conv_ae",
                            "epochs": 4, "threads": 2, "seed": 3,
                            "model_params": {"channels": [8, 16], "code_dim": 16},
                            "denoise": "gaussian:0.2", "schedule": "cosine"})
    unbroken = store.create(config)
    train_run(unbroken, config)
    broken = store.create(config)
    train_run(broken, config, echo=lambda r: r["epoch"] == 2 and broken.request_stop())
    (broken.path / "stop").unlink()
    out = subprocess.run([sys.executable, "-m", "core", "train", "--resume", broken.id], cwd=REPO,
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "DASH_JOB_CORES": "1", "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    strip = lambda r: without_timings(epochs(r))
    assert {m["threads"] for m in epochs(broken)} == {2}
    assert_records_match(strip(broken), strip(unbroken))
    assert_state_dicts_match(checkpoint.load(unbroken.checkpoint("last"))["model"],
                             checkpoint.load(broken.checkpoint("last"))["model"])


def test_a_planned_schedule_cannot_be_stretched(settings) -> None:
    store = open_store(settings)
    run = store.create(TrainConfig(**{**SMALL, "epochs": 1, "schedule": "onecycle"}))
    train_run(run, run_config(run))
    with pytest.raises(UserError, match="planned for 1 epochs"):
        train_run(run, TrainConfig(**{**SMALL, "epochs": 2, "schedule": "onecycle"}), resume=True)
    assert run.status()["state"] == "done" and run_config(run).epochs == 1  # the refusal wrote nothing


def test_diverging_run_ends_as_diverged(settings) -> None:
    store = open_store(settings)
    # SGD at lr 10 with heavy momentum: the loss goes from 2.3 to ~1e7 within ten steps
    run = store.create(TrainConfig(**{**SMALL, "model_params": {"hidden": [256, 256, 256]},
                                      "epochs": 3, "optimizer": "sgd", "lr": 10.0,
                                      "momentum": 0.99, "log_every": 1}))
    state, trainer = train_run(run, run_config(run))
    assert state == "diverged" and run.status()["state"] == "diverged"
    assert trainer.epoch == 0 and not run.checkpoint("best").exists()  # nothing bad was kept
    losses = [m["train_loss"] for m in run.metrics() if m["type"] == "step"]
    assert losses[-1] < 1e4 * losses[0] and trainer.step > len(losses)  # the blown-up point is not logged


def test_mismatched_checkpoint_is_refused(settings) -> None:
    store = open_store(settings)
    run = store.create(TrainConfig(**{**SMALL, "epochs": 1}))
    train_run(run, run_config(run))
    state = checkpoint.load(run.checkpoint("best"))
    state["config"]["model_params"] = {"hidden": [64]}
    with pytest.raises(UserError, match="does not match model 'mlp'"):
        checkpoint.model_from_checkpoint(state)
    run.checkpoint("best").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="not a readable checkpoint"):
        checkpoint.load(run.checkpoint("best"))


def test_launched_runs_stop_get_killed_and_run_side_by_side(settings) -> None:
    store = open_store(settings)
    long = dict(SMALL, epochs=200)
    stopped, killed = store.create(TrainConfig(**long)), store.create(TrainConfig(**long, seed=5))
    pids = [launch_training(stopped, settings), launch_training(killed, settings)]
    for run in (stopped, killed):  # two runs at once, each writing its own folder
        wait_for(lambda run=run: run.checkpoint("last").exists())
    assert stopped.status()["state"] == killed.status()["state"] == "running"
    stopped.request_stop()
    wait_for(lambda: stopped.status()["state"] == "stopped")
    os.kill(pids[1], signal.SIGKILL)
    wait_for(lambda: killed.status()["state"] == "interrupted")
    for run, seed in ((stopped, 0), (killed, 5)):
        state = checkpoint.load(run.checkpoint("last"))
        assert state["config"]["seed"] == seed  # no file of one run in the other's folder
        checkpoint.model_from_checkpoint(state)
        assert all(m["type"] in ("step", "epoch") for m in run.metrics())
    # the killed run resumes from its checkpoint and goes on
    before = epochs(killed)[-1]["epoch"]
    killed_config = run_config(killed)
    killed_config.epochs = before + 1
    state, _ = train_run(killed, killed_config, resume=True)
    assert state == "done" and epochs(killed)[-1]["epoch"] == before + 1


def test_cli_train_prints_a_table_and_fails_cleanly(settings) -> None:
    cmd = [sys.executable, "-m", "core", "train", "--model", "mlp", "--param", "hidden=[16]",
           "--epochs", "2", "--schedule", "none"]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "train_loss" in out.stdout and "val_acc" in out.stdout and "done: best" in out.stdout
    bad = subprocess.run(cmd[:4] + ["--model", "resnet9000"], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    assert bad.returncode == 2 and "resnet9000" in bad.stderr and "Traceback" not in bad.stderr


def test_ddp_with_gloo_on_two_processes(settings) -> None:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "core", "train", "--model", "mlp", "--param",
           "hidden=[32]", "--epochs", "2", "--schedule", "none", "--device", "cpu"]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=180,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    runs = RunStore(settings.runs_dir).list()
    assert len(runs) == 1  # rank 0 alone made and wrote the folder
    (run,) = runs
    assert run.status()["state"] == "done" and run.status()["world_size"] == 2
    assert [m["epoch"] for m in epochs(run)] == [1, 2] and epochs(run)[-1]["val_acc"] > 0.5


@pytest.mark.parametrize("variant", [{"precision": "bf16"}, {"channels_last": True},
                                     {"precision": "bf16", "channels_last": True}],
                         ids=["bf16", "channels_last", "both"])
def test_bf16_and_channels_last_train_as_well_as_fp32(settings, variant: dict) -> None:
    """The GPU speed options, run here on the CPU: the same CNN for 3 epochs learns as well as in
    fp32 / NCHW (bf16 rounds, so close, not equal), and the layout alone changes nothing but
    rounding. Their speed is measured on a GPU by tests/bench/device_speedup.py."""
    store = open_store(settings)
    base = dict(SMALL, model="cnn", model_params={"channels": [8, 16]}, threads=1)
    runs = {}
    for name, extra in (("fp32", {}), ("variant", variant)):
        run = store.create(TrainConfig(**base, **extra))
        assert train_run(run, run_config(run))[0] == "done"
        runs[name] = epochs(run)[-1]
    assert runs["variant"]["val_acc"] >= runs["fp32"]["val_acc"] - 0.05
    if "precision" not in variant:  # the layout only reorders memory: rounding-level changes
        assert runs["variant"]["val_loss"] == pytest.approx(runs["fp32"]["val_loss"], rel=1e-3)
    else:
        assert runs["variant"]["val_loss"] == pytest.approx(runs["fp32"]["val_loss"], rel=0.2)


def test_precision_is_checked_and_the_cli_takes_both_flags() -> None:
    with pytest.raises(UserError, match="precision must be one of fp32, bf16"):
        TrainConfig(precision="fp16")
    out = subprocess.run([sys.executable, "-m", "core", "train", "--help"], capture_output=True,
                         text=True, timeout=120)
    assert "--precision" in out.stdout and "--channels-last" in out.stdout
