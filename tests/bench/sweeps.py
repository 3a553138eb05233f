"""Sweep benchmarks (issue 18), all on digits with the same 12-point space.

sweep_grid   the 12-trial grid run by `python -m core sweep run` vs the same 12 configs run one
             after another by the plain `train` command (baseline, same run); goal <= 0.75x,
             and each trial's validation accuracy equal to its sequential twin's.
sweep_prune  TPE + median pruning on the same space under an epoch budget of half the grid's
             epochs (a point TPE proposes again is not trained again): its best validation
             accuracy against the grid's (goal: within 0.5 points) and the epochs it trained
             against the grid's (goal: <= 50%, which the budget guarantees); then the same TPE
             sweep replayed over REPLAY_SEEDS sampler seeds on the grid's measured epochs
             (tests/bench/sweep_replay.py): the share of seeds within 0.5 points, the mean gap.
two_workers  two `sweep work` processes on one journal file, one killed with SIGKILL mid-trial
             and a third started: trials duplicated and lost (goal 0 each), wall time.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.sweeps import study as studies
from tests.bench import sweep_replay
from tests.bench.common import Figure, env_vars, tmp_dir

REPO = Path(__file__).resolve().parents[2]
EPOCHS = 2
REPLAY_SEEDS = 40
GRID = ["--grid", "model=mlp,NN_2,default_cnn", "--grid", "lr=0.001,0.003",
        "--grid", "batch_size=32,64"]
POINTS = [(m, lr, b) for m in ("mlp", "NN_2", "default_cnn") for lr in (0.001, 0.003) for b in (32, 64)]


def _cli(*args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO, capture_output=True,
                         text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed: {out.stderr[-1500:]}")
    return out


def _best_val_acc(workspace: Path, run_id: str) -> float:
    status = json.loads((workspace / "runs" / run_id / "status.json").read_text())
    return float(status["best_metric"])


def _epochs_trained(workspace: Path) -> int:
    n = 0
    for metrics in (workspace / "runs").glob("*/metrics.jsonl"):
        n += sum(1 for line in metrics.read_text().splitlines() if '"type": "epoch"' in line)
    return n


def _grid(workspace: Path) -> dict:
    with env_vars(DASH_WORKSPACE=str(workspace)):
        return json.loads(_cli("sweep", "run", *GRID, "--epochs", str(EPOCHS), "--json").stdout)


def sweep_grid(repeats: int) -> list[Figure]:
    b = "sweep_grid"
    seq = Figure(b, f"baseline: 12 configs one after another by `train`, {EPOCHS} ep", unit="s")
    grid = Figure(b, "the same 12 as one `sweep run` grid", unit="s", baseline=seq.name,
                  ratio_goal=0.75)
    diff = Figure(b, "max |val_acc difference| per trial vs its sequential twin", unit="",
                  goal=0.0)
    with tmp_dir("sweep-grid") as tmp:
        for i in range(repeats):
            ws_seq, ws_grid = tmp / f"seq{i}", tmp / f"grid{i}"
            start = time.perf_counter()
            plain = {}
            with env_vars(DASH_WORKSPACE=str(ws_seq)):
                for m, lr, bs in POINTS:
                    out = _cli("train", "--model", m, "--lr", str(lr), "--batch-size", str(bs),
                               "--epochs", str(EPOCHS))
                    plain[(m, lr, bs)] = _best_val_acc(ws_seq, out.stdout.split()[1])
            seq.values.append(time.perf_counter() - start)
            start = time.perf_counter()
            result = _grid(ws_grid)
            grid.values.append(time.perf_counter() - start)
            diffs = [abs(t["value"] - plain[(t["params"]["model"], t["params"]["lr"],
                                             t["params"]["batch_size"])]) for t in result["trials"]]
            diff.values.append(max(diffs))
            print(f"  repeat {i}: sequential {seq.values[-1]:.1f} s, grid {grid.values[-1]:.1f} s, "
                  f"max diff {diff.values[-1]:.2g}", flush=True)
    return [seq, grid, diff]


def sweep_prune(repeats: int) -> list[Figure]:
    b = "sweep_prune"
    gap = Figure(b, "grid best - TPE+median best val_acc", unit="points", goal=0.5)
    share = Figure(b, "TPE+median epochs / grid epochs", unit="x", goal=0.5)
    missed = Figure(b, f"replayed, {REPLAY_SEEDS} sampler seeds: share > 0.5 points behind", unit="")
    mean_gap = Figure(b, f"replayed, {REPLAY_SEEDS} sampler seeds: mean gap", unit="points", goal=0.5)
    most = Figure(b, f"replayed, {REPLAY_SEEDS} sampler seeds: most epochs / grid epochs", unit="x",
                  goal=0.5)
    with tmp_dir("sweep-prune") as tmp:
        for i in range(repeats):
            ws_grid, ws_tpe = tmp / f"grid{i}", tmp / f"tpe{i}"
            grid = _grid(ws_grid)
            with env_vars(DASH_WORKSPACE=str(ws_tpe)):
                tpe = json.loads(_cli("sweep", "run", *[a.replace("--grid", "--axis") for a in GRID],
                                      "--search", "tpe", "--trials", str(len(POINTS)), "--prune", "median",
                                      "--epoch-budget", str(len(POINTS) * EPOCHS // 2),
                                      "--epochs", str(EPOCHS), "--json").stdout)
            gap.values.append(100 * (grid["best"]["value"] - tpe["best"]["value"]))
            share.values.append(_epochs_trained(ws_tpe) / _epochs_trained(ws_grid))
            table = sweep_replay.grid_table(ws_grid, grid)
            sweep = studies.load(ws_tpe, tpe["sweep"])
            replays = [sweep_replay.replay(sweep, table, seed) for seed in range(REPLAY_SEEDS)]
            gaps = [100 * (grid["best"]["value"] - value) for value, _ in replays]
            missed.values.append(sum(g > 0.5 for g in gaps) / len(gaps))
            mean_gap.values.append(sum(gaps) / len(gaps))
            most.values.append(max(n for _, n in replays) / _epochs_trained(ws_grid))
            print(f"  repeat {i}: gap {gap.values[-1]:.2f} points, epochs {share.values[-1]:.2f}x; "
                  f"replayed: {missed.values[-1]:.0%} of seeds miss by > 0.5, mean gap "
                  f"{mean_gap.values[-1]:.2f}", flush=True)
    return [gap, share, missed, mean_gap, most]


def _work(sweep_id: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "core", "sweep", "work", sweep_id, "--parallel", "1"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def two_workers(repeats: int) -> list[Figure]:
    b = "two_workers"
    dup = Figure(b, "grid points trained twice", unit="", goal=0.0)
    lost = Figure(b, "grid points never completed", unit="", goal=0.0)
    wall = Figure(b, "wall time, 12 trials, one worker SIGKILLed", unit="s")
    with tmp_dir("two-workers") as tmp:
        for i in range(repeats):
            ws = tmp / f"w{i}"
            with env_vars(DASH_WORKSPACE=str(ws)):
                sweep_id = json.loads(_cli("sweep", "create", *GRID, "--epochs", str(EPOCHS),
                                           "--json").stdout)["sweep"]
                start = time.perf_counter()
                procs = [_work(sweep_id), _work(sweep_id)]
                try:
                    deadline = time.time() + 600
                    while not any((ws / "runs").glob("*/metrics.jsonl")) and time.time() < deadline:
                        time.sleep(0.2)
                    os.killpg(procs[0].pid, signal.SIGKILL)
                    procs.append(_work(sweep_id))
                    for p in procs[1:]:
                        p.wait(timeout=3600)
                finally:
                    for p in procs:
                        if p.poll() is None:
                            os.killpg(p.pid, signal.SIGKILL)
                wall.values.append(time.perf_counter() - start)
                trials = json.loads(_cli("sweep", "status", sweep_id, "--json").stdout)["trials"]
            done = [json.dumps(t["params"], sort_keys=True) for t in trials if t["state"] == "complete"]
            dup.values.append(len(done) - len(set(done)))
            lost.values.append(len(POINTS) - len(set(done)))
            print(f"  repeat {i}: {wall.values[-1]:.1f} s, duplicated {dup.values[-1]}, "
                  f"lost {lost.values[-1]}", flush=True)
    return [dup, lost, wall]
