"""Run a config into a run folder: the function behind `python -m core train`."""
from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable

from core.errors import UserError
from core.runs.store import Run
from core.training import checkpoint
from core.training.config import TrainConfig
from core.training.data import prepare
from core.training.distributed import init_from_env, shutdown
from core.training.loop import Callbacks, Trainer, resolve_device

STATUS_EVERY_S = 1.0  # heartbeat / progress rewrite interval
STOP_POLL_S = 0.2  # how often the stop file is looked at


class RunRecorder:
    """Callbacks that write metrics, progress and checkpoints into a run folder."""

    def __init__(self, run: Run, trainer: Trainer, echo: Callable[[dict], None] | None = None):
        self.run, self.trainer, self.echo = run, trainer, echo
        self.started = time.time()
        self.last_status = 0.0
        self.last_poll = 0.0
        self.stop_flag = False
        self.steps_at_start = trainer.step
        self.metrics_file = None

    def callbacks(self) -> Callbacks:
        return Callbacks(on_step=self.on_step, on_epoch=self.on_epoch,
                         on_checkpoint=self.on_checkpoint, should_stop=self.should_stop)

    def _append(self, record: dict) -> None:
        # One open file for the whole run (an open per line cost ~1% of a step); flushed per
        # record so the page sees each point at once.
        if self.metrics_file is None:
            self.metrics_file = open(self.run.path / "metrics.jsonl", "a")
        self.metrics_file.write(json.dumps({**record, "time": time.time() - self.started}) + "\n")
        self.metrics_file.flush()

    def close(self) -> None:
        if self.metrics_file is not None:
            self.metrics_file.close()
            self.metrics_file = None

    def on_step(self, record: dict) -> None:
        self._append(record)
        now = time.time()
        if now - self.last_status >= STATUS_EVERY_S:
            self.last_status = now
            self.run.write_status(state="running", progress=self.progress())

    def on_epoch(self, record: dict) -> None:
        self._append(record)
        t = self.trainer
        self.run.write_status(state="running", progress=self.progress(), best_metric=t.best_metric,
                              best_epoch=t.best_epoch, monitor=t.monitor,
                              images_per_s=record["images_per_s"])
        if self.echo:
            self.echo(record)
        self.last_poll = 0.0  # look for a stop request at the first step of the next epoch

    def on_checkpoint(self, which: str, state: dict) -> None:
        checkpoint.save(self.run.checkpoint(which), state)

    def should_stop(self) -> bool:
        now = time.time()
        if now - self.last_poll >= STOP_POLL_S:
            self.last_poll = now
            self.stop_flag = self.stop_flag or self.run.stop_requested()
        return self.stop_flag

    def progress(self) -> dict:
        t = self.trainer
        total = t.steps_per_epoch * t.config.epochs
        done = t.step - self.steps_at_start
        elapsed = time.time() - self.started
        eta = elapsed / done * (total - t.step) if done else None
        return {"epoch": t.epoch, "epochs": t.config.epochs, "step": t.step, "total_steps": total,
                "fraction": min(1.0, t.step / total), "eta_s": eta, "elapsed_s": elapsed,
                "images_per_s": done * t.batch_size * t.ctx.world_size / elapsed if elapsed else None}


def train_run(run: Run | None, config: TrainConfig, resume: bool = False,
              echo: Callable[[dict], None] | None = None) -> tuple[str, Trainer]:
    """Train config; rank 0 records into run. Returns (final state, trainer)."""
    device = resolve_device(config.device)
    ctx = init_from_env(device)
    if ctx.enabled and device.type == "cuda":
        import torch

        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    writer = run if ctx.is_main else None
    recorder = None
    previous = signal.getsignal(signal.SIGTERM)
    try:
        if writer:
            writer.write_status(state="running", pid=os.getpid(), host=socket.gethostname(),
                                started=time.time(), device=str(device), world_size=ctx.world_size,
                                error=None)
        trainer = Trainer(config, prepare(config, device), device, ctx)
        if resume:
            if run is None:
                raise UserError("resume needs a run folder")
            trainer.load_state(checkpoint.load(run.checkpoint("last"), device))
            if writer:  # drop points logged after that checkpoint: they are about to be redone
                writer.truncate_metrics(after_step=trainer.step)
        if writer:
            recorder = RunRecorder(writer, trainer, echo)
            trainer.callbacks = recorder.callbacks()
            writer.write_status(n_parameters=trainer.n_parameters, monitor=trainer.monitor,
                                progress=recorder.progress())

            def on_sigterm(signum, frame):  # `kill PID`: stop at the next batch, keep checkpoints
                recorder.stop_flag = True

            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, on_sigterm)
        elif echo:
            trainer.callbacks = Callbacks(on_epoch=echo)
        if trainer.epoch >= config.epochs:
            state = "done"
        else:
            state = trainer.fit()
        if writer:
            writer.write_status(state=state, progress=recorder.progress(), finished=time.time(),
                                best_metric=trainer.best_metric, best_epoch=trainer.best_epoch)
        return state, trainer
    except UserError as exc:
        if writer:
            writer.write_status(state="failed", error=str(exc), finished=time.time())
        raise
    except Exception:
        if writer:
            writer.write_status(state="failed", error=traceback.format_exc(limit=5),
                                finished=time.time())
        raise
    finally:
        if recorder is not None:
            recorder.close()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)
        shutdown(ctx)
