"""Training benchmarks: engine overhead, the shipped digits classifier, live-curve latency, memory.

engine_vs_bare      images/s of Trainer.train_one_epoch recording into a real run folder vs a
                    hand-written PyTorch loop (same MLP, data, batch, Adam + one-cycle), in
                    alternating order (ABBA); wall and CPU-time ratios
default_cnn_digits  train_run of SHIPPED["digits-classifier"]: wall time and test accuracy from
                    best.pt, seeds 0, 1, 2, ...; baseline sklearn LogisticRegression
metric_to_browser   a step record appended to metrics.jsonl until its point is drawn in Chromium
train_memory        peak RSS of `python -m core train` (digits CNN; MLP on a 60k IDX set)

The shared table only knows upper-bound goals, so lower bounds are turned round: accuracy >= 0.99
is reported as test error <= 0.01, throughput ratio >= 0.95 as engine/bare time <= 1/0.95.
"""
from __future__ import annotations

import math
import os
import random
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from tests.bench.common import Figure, env_vars, timed, tmp_dir, write_mnist_60k
from tests.e2e import server as srv

THREADS = os.cpu_count() or 1
BATCH = 64
ENGINE_MIN_PAIRS = 5  # each pair is ~3 s, so a few more than --repeats costs little
LATENCY_POINTS = 10  # points appended per metric_to_browser repeat
FRAGMENT_EVERY_S = 1.0  # run_every of dashboard.sections.train.render_live_run
TIME = Path("/usr/bin/time")  # GNU time: exact peak RSS of a command (%M)




@contextmanager
def _threads(n: int):
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


# ------------------------------------------------------------------------------ engine_vs_bare
def _generated_60k():
    """TrainData of 60,000 + 6,000 learnable 28x28 uint8 images (the IDX writer's pattern)."""
    import torch

    from core.training.data import TrainData
    from tests.data_writers import pattern_images

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 66_000)
    images = pattern_images(labels, 10, (28, 28), rng)[:, None]
    x, y = torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))
    return TrainData(x_train=x[:60_000], y_train=y[:60_000], x_val=x[60_000:], y_val=y[60_000:],
                     classes=tuple(str(i) for i in range(10)), in_shape=(1, 28, 28))


class _BareLoop:
    """The loop a person would write by hand: randperm, slice, forward, backward, Adam step."""

    def __init__(self, config, data):
        import torch

        from core.models import build_model

        torch.manual_seed(config.seed)
        self.data = data
        self.model = build_model(config.model, data.in_shape, data.n_classes, config.model_params)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        steps = math.ceil(len(data.y_train) / config.batch_size)
        self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
            self.optimizer, max_lr=config.lr, total_steps=config.epochs * steps)
        self.batch = config.batch_size
        self.gen = torch.Generator().manual_seed(config.seed)

    def epoch(self) -> None:
        import torch
        import torch.nn.functional as F

        self.model.train()
        x_all, y_all = self.data.x_train, self.data.y_train
        perm = torch.randperm(len(y_all), generator=self.gen)
        for first in range(0, len(perm), self.batch):
            idx = perm[first:first + self.batch]
            loss = F.cross_entropy(self.model(x_all[idx].float().div_(255.0)), y_all[idx])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.scheduler.step()


def engine_vs_bare(repeats: int) -> list[Figure]:
    """Alternating epochs of the bare loop and of the engine with live run-folder logging."""
    import torch

    from core.runs.store import open_store
    from core.settings import Settings
    from core.training.config import TrainConfig
    from core.training.loop import Trainer
    from core.training.runner import RunRecorder

    pairs = max(repeats, ENGINE_MIN_PAIRS)
    bare_fig = Figure("engine_vs_bare", f"baseline: bare loop, mlp 60k 28x28 b{BATCH}",
                      unit="k images/s")
    engine_fig = Figure("engine_vs_bare", "engine + RunRecorder (run folder)", unit="k images/s",
                        baseline=bare_fig.name)
    ratio_fig = Figure("engine_vs_bare", "engine/bare seconds per epoch (pairs)", unit="x",
                       goal=round(1 / 0.95, 3))
    cpu_fig = Figure("engine_vs_bare", "engine/bare CPU seconds per epoch (pairs)", unit="x")
    with tmp_dir("engine") as ws, _threads(THREADS):
        data = _generated_60k()
        n = len(data.y_train)
        # One untimed warm-up epoch each; the one-cycle schedule must cover every epoch run.
        config = TrainConfig(dataset="generated-60k", model="mlp", batch_size=BATCH,
                             epochs=pairs + 1, seed=0, device="cpu")
        run = open_store(Settings(workspace=ws)).create(config)
        run.write_status(state="running", pid=os.getpid(), host=socket.gethostname(),
                         started=time.time(), device="cpu", world_size=1)
        trainer = Trainer(config, data, torch.device("cpu"))
        recorder = RunRecorder(run, trainer)
        trainer.callbacks = recorder.callbacks()
        bare = _BareLoop(config, data)

        def engine_epoch() -> None:
            result = trainer.train_one_epoch()
            assert not (result["stopped"] or result["diverged"]), result
            trainer.epoch += 1

        bare.epoch()
        engine_epoch()
        for i in range(pairs):
            # ABBA order: whichever runs second in a pair inherits the first one's cache and
            # allocator state, so the order alternates rather than favouring one side.
            first, second = (bare.epoch, engine_epoch) if i % 2 == 0 else (engine_epoch, bare.epoch)
            times = {first: _wall_and_cpu(first), second: _wall_and_cpu(second)}
            (w_bare, c_bare), (w_engine, c_engine) = times[bare.epoch], times[engine_epoch]
            bare_fig.values.append(n / w_bare / 1000)
            engine_fig.values.append(n / w_engine / 1000)
            ratio_fig.values.append(w_engine / w_bare)
            cpu_fig.values.append(c_engine / c_bare)
        logged = [m for m in run.metrics() if m.get("type") == "step"]
        assert len(logged) == trainer.step // config.log_every + 1, "the engine did not log live"
    return [engine_fig, bare_fig, ratio_fig, cpu_fig]


def _wall_and_cpu(fn) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) of one call: CPU time is what other people's
    load on a shared machine disturbs least."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


# ------------------------------------------------------------------------------ default_cnn_digits
def _test_accuracy(run, ds) -> float:
    import torch
    from sklearn.metrics import accuracy_score

    from core.inference import load_model
    from core.models.losses import class_probabilities

    model, state = load_model(run)
    assert tuple(state["classes"]) == tuple(ds.classes), "checkpoint classes differ from the set"
    idx = ds.indices("test")
    with torch.no_grad():
        x = torch.from_numpy(np.ascontiguousarray(ds.images[idx])).float().div_(255.0)
        pred = class_probabilities(model(x)).argmax(1).numpy()
    return float(accuracy_score(ds.labels[idx], pred))


def _logistic_baseline(ds) -> tuple[float, float]:
    """(seconds, test accuracy) of LogisticRegression on flattened pixels / 255."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score

    def flat(split):
        idx = ds.indices(split)
        return ds.images[idx].reshape(len(idx), -1) / 255.0, ds.labels[idx]

    (x_tr, y_tr), (x_te, y_te) = flat("train"), flat("test")
    seconds, pred = timed(lambda: LogisticRegression(max_iter=2000).fit(x_tr, y_tr).predict(x_te))
    return seconds, float(accuracy_score(y_te, pred))


def default_cnn_digits(repeats: int) -> list[Figure]:
    """The shipped digits classifier trained from scratch (train_run, as `python -m core train`)."""
    from core.data.dataset import load_dataset
    from core.runs.store import open_store
    from core.settings import Settings
    from core.shipping import SHIPPED
    from core.training.runner import train_run

    shipped = SHIPPED["digits-classifier"]
    b = "default_cnn_digits"
    lr_time = Figure(b, "baseline: LogisticRegression fit+predict")
    lr_acc = Figure(b, "baseline: LogisticRegression test accuracy", unit="accuracy")
    wall = Figure(b, f"train_run {shipped.model} {shipped.epochs} epochs (wall)", goal=15.0,
                  baseline=lr_time.name)
    acc = Figure(b, "test accuracy (best.pt)", unit="accuracy", baseline=lr_acc.name)
    err = Figure(b, "test error = 1 - accuracy", unit="fraction", goal=0.01)
    with _threads(THREADS):
        for seed in range(repeats):
            with tmp_dir("cnn") as ws, env_vars(DASH_WORKSPACE=str(ws)):
                settings = Settings(workspace=ws)
                config = replace(shipped, seed=seed)
                run = open_store(settings).create(config)
                seconds, (state, _) = timed(train_run, run, config)
                assert state == "done", f"seed {seed}: the run ended {state}"
                ds = load_dataset(config.dataset, settings)
                accuracy = _test_accuracy(run, ds)
                wall.values.append(seconds)
                acc.values.append(accuracy)
                err.values.append(1.0 - accuracy)
                seconds, accuracy = _logistic_baseline(ds)
                lr_time.values.append(seconds)
                lr_acc.values.append(accuracy)
    return [wall, lr_time, acc, err, lr_acc]


# ------------------------------------------------------------------------------ metric_to_browser
STEP_TRACE_JS = """([runId, name]) => {
    const g = document.querySelector(`.st-key-curves_${runId} .js-plotly-plot`);
    const t = g && g._fullData && g._fullData.find(t => t.name === name);
    return t && t.x ? t.x.length : 0;
}"""


def _latencies(browser, tmp: Path, points: int, rng: random.Random) -> list[float]:
    """Seconds from append_metrics to the point being drawn, for `points` appended points."""
    from core.runs.store import open_store
    from core.settings import Settings
    from core.training.config import TrainConfig

    ws = tmp / "workspace"
    run = open_store(Settings(workspace=ws)).create(TrainConfig(epochs=10, name=""))
    run.write_status(state="running", pid=os.getpid(), host=socket.gethostname(),
                     started=time.time(), progress={"epoch": 0, "epochs": 10, "step": 0,
                                                    "total_steps": 1000, "fraction": 0.0})
    server = srv.start_app(workspace=ws, log_path=tmp / "streamlit.log")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    out = []
    try:
        srv.wait_healthy(server, timeout=60)
        page = context.new_page()
        page.goto(server.url + "/train")
        page.wait_for_selector(f".st-key-curves_{run.id} .js-plotly-plot", timeout=60_000)
        for k in range(1, points + 1):
            page.wait_for_timeout(rng.uniform(0, FRAGMENT_EVERY_S) * 1000)  # random phase
            run.append_metrics([{"type": "step", "step": 10 * k, "train_loss": 2.0 / k,
                                 "epoch": k / 100, "time": float(k)}])
            t0 = time.perf_counter()
            page.wait_for_function(f"([id, name, n]) => ({STEP_TRACE_JS})([id, name]) >= n",
                                   arg=[run.id, "train (each log)", k], polling="raf",
                                   timeout=30_000)
            out.append(time.perf_counter() - t0)
            run.write_status(progress={"epoch": 0, "epochs": 10, "step": 10 * k,
                                       "total_steps": 1000, "fraction": k / 100})
        return out
    except Exception:
        print(server.log_text())
        raise
    finally:
        run.write_status(state="stopped", finished=time.time())
        context.close()
        server.stop()


def metric_to_browser(repeats: int) -> list[Figure]:
    """A fresh server and page per repeat, LATENCY_POINTS points each (all pooled)."""
    from playwright.sync_api import sync_playwright

    base = Figure("metric_to_browser", f"baseline: fragment run_every ({FRAGMENT_EVERY_S:g} s)")
    lat = Figure("metric_to_browser", f"append -> point drawn ({LATENCY_POINTS}/repeat, pooled)",
                 goal=2.0, baseline=base.name)
    rng = random.Random(0)
    with sync_playwright() as p, tmp_dir("latency") as tmp:
        browser = srv.launch_browser(p)
        for i in range(repeats):
            lat.values += _latencies(browser, tmp / f"r{i}", LATENCY_POINTS, rng)
            base.values.append(FRAGMENT_EVERY_S)
        browser.close()
    return [lat, base]


# ------------------------------------------------------------------------------ train_memory
def _peak_rss_of(cmd: list[str], env: dict[str, str], log: Path) -> float:
    """MiB of the command's peak resident set; it must exit with 0.

    GNU time reports the exact maximum. Not wait4's ru_maxrss of our own child: Linux carries
    the forking parent's peak (this benchmark process, ~1 GiB after the others) into it. Without
    /usr/bin/time, VmHWM is polled from /proc every 10 ms until the process exits.
    """
    full_env = {**os.environ, "PYTHONPATH": str(srv.REPO), **env}
    peak_file = log.with_suffix(".maxrss")
    use_time = TIME.exists() and os.access(TIME, os.X_OK)
    full_cmd = [str(TIME), "-f", "%M", "-o", str(peak_file), *cmd] if use_time else cmd
    polled = 0.0
    with open(log, "wb") as out:
        proc = subprocess.Popen(full_cmd, cwd=srv.REPO, env=full_env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        while proc.poll() is None:
            if not use_time:
                polled = max(polled, srv.peak_rss_mib(proc.pid))
            time.sleep(0.01)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{log.read_text()[-3000:]}")
    if use_time:
        return int(peak_file.read_text().split()[-1]) / 1024  # KiB
    return polled


def train_memory(repeats: int) -> list[Figure]:
    """Each repeat in a fresh workspace, so the dataset is read from its source (no cache)."""
    b = "train_memory"
    base = Figure(b, "baseline: python -c 'import torch'", unit="MiB")
    cnn = Figure(b, "core train default_cnn digits 1 epoch", unit="MiB", baseline=base.name)
    mlp = Figure(b, "core train mlp IDX 60k+10k 1 epoch", unit="MiB", baseline=base.name)
    train = [sys.executable, "-m", "core", "train", "--epochs", "1"]
    with tmp_dir("mem") as tmp:
        root = write_mnist_60k(tmp / "data")
        for i in range(repeats):
            ws = tmp / f"ws{i}"
            env = {"DASH_WORKSPACE": str(ws), "DASH_DATA_ROOTS": str(root)}
            base.values.append(_peak_rss_of([sys.executable, "-c", "import torch"], env,
                                            tmp / "torch.log"))
            cnn.values.append(_peak_rss_of(train + ["--model", "default_cnn"], env,
                                           tmp / "cnn.log"))
            mlp.values.append(_peak_rss_of(train + ["--model", "mlp", "--dataset",
                                                    f"mnist?root={root}"], env, tmp / "mlp.log"))
    return [cnn, mlp, base]
