"""Run a config into a run folder: the function behind `python -m core train`."""
from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager

from core.errors import UserError
from core.io.atomic import read_json, write_json
from core.runs.lock import RunLock
from core.runs.metrics import RecordType
from core.runs.process import identity
from core.runs.store import Run, RunState
from core.runs.threads import ThreadBudget, ThreadShare
from core.training import checkpoint
from core.training.config import TrainConfig, run_config
from core.training.data import prepare
from core.training.distributed import init_from_env, shutdown
from core.training.eta import Eta
from core.training.loop import Callbacks, Trainer, check_epochs_change, resolve_device
from core.training.probes import ProbeRecorder
from core.training.sanity import run_warnings

STATUS_EVERY_S = 1.0  # heartbeat / progress rewrite interval
STOP_POLL_S = 0.2  # how often the stop file is looked at


class RunRecorder:
    """Callbacks that write metrics, progress and checkpoints into a run folder."""

    def __init__(self, run: Run, trainer: Trainer, echo: Callable[[dict], None] | None = None,
                 share: ThreadShare | None = None):
        self.run, self.trainer, self.echo, self.share = run, trainer, echo, share
        self.started = time.time()
        self.last_status = 0.0
        self.last_poll = 0.0
        self.stop_flag = False
        self.steps_at_start = trainer.step
        self.metrics_file = None
        self.eta = Eta(self.started, trainer.step)  # time left, from this run's own recent pace
        self.probes: ProbeRecorder | None = None  # the probe set's answers, saved per epoch

    def callbacks(self) -> Callbacks:
        return Callbacks(on_step=self.on_step, on_epoch=self.on_epoch,
                         on_checkpoint=self.on_checkpoint, should_stop=self.should_stop)

    def _append(self, record: dict) -> None:
        # One open file for the whole run (an open per line cost ~1% of a step); flushed per
        # record so the page sees each point at once.
        path = self.run.path / "metrics.jsonl"
        if self.metrics_file is None:
            self.metrics_file = open(path, "a")
        try:
            self.metrics_file.write(json.dumps({**record, "time": time.time() - self.started}) + "\n")
            self.metrics_file.flush()
        except OSError as exc:  # a full disk: say which file (a file object's error names none)
            raise OSError(exc.errno, exc.strerror, str(path)) from None

    def close(self) -> None:
        if self.metrics_file is not None:
            file, self.metrics_file = self.metrics_file, None
            try:
                file.close()
            except OSError:  # what could not be flushed was reported when it was written
                pass

    def on_step(self, record: dict) -> None:
        self._append(record)
        now = time.time()
        self.eta.step(now, record["step"])
        if now - self.last_status >= STATUS_EVERY_S:
            self.last_status = now
            self.run.write_status(state=RunState.RUNNING, progress=self.progress())

    def on_epoch(self, record: dict) -> None:
        if self.probes is not None:
            try:
                before = self.probes.seconds
                self.probes.record(record["epoch"])
                record = {**record, "probe_seconds": self.probes.seconds - before}
            except Exception as exc:  # watching must never stop the training itself
                print(f"probe set disabled: {type(exc).__name__}: {exc}", file=sys.stderr)
                self.probes = None
        self._append(record)
        t = self.trainer
        self.eta.epoch_end(time.time(), record["step"], record["seconds"])
        self.run.write_status(state=RunState.RUNNING, progress=self.progress(), best_metric=t.best_metric,
                              best_epoch=t.best_epoch, monitor=t.monitor,
                              images_per_s=record["images_per_s"])
        if self.echo:
            self.echo(record)
        self.last_poll = 0.0  # look for a stop request at the first step of the next epoch

    def on_checkpoint(self, which: str, state: dict) -> None:
        checkpoint.save(self.run.checkpoint(which), state)

    def should_stop(self) -> bool:
        """Polled every step; looks at the stop file (and the thread share) a few times a second."""
        now = time.time()
        if now - self.last_poll >= STOP_POLL_S:
            self.last_poll = now
            self.stop_flag = self.stop_flag or self.run.stop_requested()
            if self.share is not None:
                self.share.refresh()
        return self.stop_flag

    def progress(self) -> dict:
        t = self.trainer
        total = t.steps_per_epoch * t.config.epochs
        done = t.step - self.steps_at_start
        now = time.time()
        elapsed = now - self.started
        eta = self.eta.seconds_left(total - t.step, t.config.epochs - t.epoch)
        return {"epoch": t.epoch, "epochs": t.config.epochs, "step": t.step, "total_steps": total,
                "fraction": min(1.0, t.step / total), "eta_s": eta, "elapsed_s": elapsed, "written": now,
                "images_per_s": done * t.batch_size * t.ctx.world_size / elapsed if elapsed else None}


def train_run(run: Run | None, config: TrainConfig, resume: bool = False,
              echo: Callable[[dict], None] | None = None,
              budget: ThreadBudget | None = None) -> tuple[str, Trainer]:
    """Train config; rank 0 records into run. Returns (final state, trainer).

    The run is locked for the whole call: a second process training it gets a UserError before
    anything is written. With a budget (the CLI passes the workspace's), a config without fixed
    threads follows its share of the cores as other jobs start and end.
    """
    device = resolve_device(config.device)
    ctx = init_from_env(device)
    if ctx.enabled and device.type == "cuda":
        import torch

        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    writer = run if ctx.is_main else None
    with ExitStack() as held:
        if writer:
            held.enter_context(RunLock(writer.path))
            if resume:
                _prepare_resume(writer, config)
            else:
                _check_fresh(writer)
        share = held.enter_context(_thread_count(config, None if ctx.enabled else budget))
        return _train_locked(run, writer, config, resume, echo, device, ctx, share)


def _check_fresh(run: Run) -> None:
    """Training without resume starts a run from nothing: only a queued run that has no
    checkpoint and no history yet. A shipped or finished run is never trained over (its best.pt
    and metrics.jsonl are its record); continuing one is `--resume`."""
    if run.read_only:
        raise UserError(f"{run.name()} is a shipped run and cannot be trained; train a new run instead")
    kept = [p.name for p in (run.checkpoint("best"), run.checkpoint("last"), run.path / "metrics.jsonl")
            if p.exists() and (p.suffix == ".pt" or p.stat().st_size > 0)]
    state = (read_json(run.path / "status.json") or {}).get("state")
    if kept or state != RunState.QUEUED:
        held = f"it holds {', '.join(kept)}" if kept else f"it is {str(state)[:20]}, not queued"
        raise UserError(f"run {run.name()} was trained before ({held}); it is never trained over: "
                        "continue it with --resume, or train a new run")


def _prepare_resume(run: Run, config: TrainConfig) -> None:
    """Refuse a broken or shipped run, one without last.pt (leaving its status as it is), and
    fewer epochs than it has done; record a new total of epochs (`--epochs` is the total)."""
    if run.read_only:
        raise UserError(f"{run.name()} is a shipped run and cannot be trained; train a new run instead")
    problem = run.problem()
    if problem:
        raise UserError(f"run {run.id} is broken ({problem}); it can only be deleted")
    if not run.checkpoint("last").exists():
        raise UserError(f"run {run.name()} has no checkpoint to resume from: it ended before "
                        "its first epoch finished; train it again instead")
    stored = run_config(run)
    if stored.epochs == config.epochs:
        return
    done = checkpoint.load(run.checkpoint("last"))["epoch"]
    if config.epochs <= done:  # config.json says what the run was trained for: never less
        raise UserError(f"run {run.name()} has already trained {done} epochs; --epochs is the new "
                        f"total and must be more than {done} (leave it out to finish the "
                        f"{stored.epochs} planned)")
    check_epochs_change(stored.epochs, config)
    stored.epochs = config.epochs
    write_json(run.path / "config.json", stored.to_dict())


def _record_failure(run: Run, error: str) -> None:
    """status.json says failed, with the error. When the atomic write fails too (a full disk has
    no room for a second file), status.json is overwritten in place, in the blocks it holds: a
    reader may catch it half-written once, but the run does not sit "queued" or "running" for good.
    If even that fails, the caller's exception still reaches the user."""
    fields = {"state": RunState.FAILED, "error": error[:1000], "finished": time.time()}
    try:
        run.write_status(**fields)
        return
    except OSError:
        pass
    current = read_json(run.path / "status.json") or {}
    data = json.dumps({**current, **fields, "heartbeat": time.time()}).encode()
    try:
        with open(run.path / "status.json", "r+b") as f:
            f.write(data)
            f.truncate()
    except OSError:
        pass


def _record_decisions(run: Run, decisions: dict | None, resume: bool) -> None:
    """Record the decisions file the dataset was built with; a resume refuses a changed one."""
    if resume:
        before = run.status().get("decisions")
        if (before or {}).get("sha256") != (decisions or {}).get("sha256"):
            name = (decisions or before or {}).get("file", "")
            raise UserError(f"decisions file {name} changed since run {run.name()} started; "
                            "train a new run on it instead of resuming")
    run.write_status(decisions=decisions)


@contextmanager
def _thread_count(config: TrainConfig, budget: ThreadBudget | None):
    """torch's thread count for the run: fixed by config.threads, or the budget's share."""
    import torch

    before = torch.get_num_threads()
    try:
        if config.threads:
            torch.set_num_threads(config.threads)
            yield None
        elif budget is not None:
            with ThreadShare(budget) as share:
                yield share
        else:
            yield None
    finally:
        torch.set_num_threads(before)


def _train_locked(run: Run | None, writer: Run | None, config: TrainConfig, resume: bool, echo,
                  device, ctx, share: ThreadShare | None) -> tuple[str, Trainer]:
    recorder = None
    previous = signal.getsignal(signal.SIGTERM)
    try:
        if writer:
            writer.write_status(state=RunState.RUNNING, **identity(os.getpid()), host=socket.gethostname(),
                                started=time.time(), device=str(device), world_size=ctx.world_size,
                                error=None, warnings=None)
        trainer = Trainer(config, prepare(config, device), device, ctx)
        if resume:
            if run is None:
                raise UserError("resume needs a run folder")
            trainer.load_state(checkpoint.load(run.checkpoint("last"), device))
            if writer:  # drop points logged after that checkpoint: they are about to be redone
                writer.truncate_metrics(after_step=trainer.step)
        if writer:
            _record_decisions(writer, trainer.data.decisions, resume)
            recorder = RunRecorder(writer, trainer, echo, share)
            recorder.probes = ProbeRecorder(writer.path, trainer, config.seed)
            trainer.callbacks = recorder.callbacks()
            writer.write_status(n_parameters=trainer.n_parameters, monitor=trainer.monitor,
                                progress=recorder.progress())

            def on_sigterm(signum, frame):  # `kill PID`: stop at the next batch, keep checkpoints
                recorder.stop_flag = True

            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, on_sigterm)
        elif echo:
            trainer.callbacks = Callbacks(on_epoch=echo)
        state = RunState.DONE if trainer.epoch >= config.epochs else RunState(trainer.fit())
        if writer:
            recorder.close()
            best = next((m for m in writer.metrics() if m["type"] == RecordType.EPOCH
                         and m.get("epoch") == trainer.best_epoch), None)
            writer.write_status(state=state, progress=recorder.progress(), finished=time.time(),
                                best_metric=trainer.best_metric, best_epoch=trainer.best_epoch,
                                warnings=run_warnings(trainer.kind, best, trainer.data) or None)
        return state, trainer
    except UserError as exc:
        if writer:
            _record_failure(writer, str(exc))
        raise
    except OSError as exc:  # a full disk or a read-only folder: the reason and the file
        if writer:
            _record_failure(writer, f"{exc.strerror or exc}: {exc.filename or writer.path}")
        raise
    except Exception as exc:
        if writer:  # one line for the pages; the traceback goes to the process's log
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            _record_failure(writer, f"{type(exc).__name__}: {first} (the traceback is in log.txt)")
        raise
    finally:
        if recorder is not None:
            recorder.close()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)
        shutdown(ctx)
