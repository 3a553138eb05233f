"""`sweep work`: pull trials from a sweep's study and train each as an ordinary run.

A worker keeps up to N trials running at once, each a `python -m core train --run FOLDER`
process started by the one launcher (core.runs.jobs; forked from this worker's warm launcher,
core.runs.warm, when it is ready), so each takes its share of the thread
budget; the run's own process feeds each epoch's metric to Optuna's pruner (core.sweeps.prune).
Any number of workers (processes, machines sharing the workspace) may work on one study: the
study's storage hands each queued trial to one of them, and a sweep lock serialises asking.

Recovery: a worker writes a heartbeat file; a RUNNING trial whose worker is gone is adopted
(its run still trains) or, when its run died too, marked interrupted and queued again once
(resuming the run from its last checkpoint). A stopped sweep's trials are queued again when it
is resumed.
"""
from __future__ import annotations

import fcntl
import os
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from core.errors import UserError
from core.io.atomic import read_json, write_json
from core.runs import warm
from core.runs.jobs import launch_training, pid_alive, process_gone
from core.runs.status import ACTIVE, JobState, RunState
from core.runs.store import Run, RunStore
from core.runs.threads import ThreadBudget, machine_cores
from core.settings import Settings
from core.sweeps import prune
from core.sweeps import study as studies
from core.sweeps.axes import Search, apply
from core.sweeps.results import TrialState
from core.sweeps.study import SweepDef

POLL_S = 0.2
WORKER_STALE_S = 30.0
BEAT_EVERY_S = 2.0
MAX_PARALLEL_AUTO = 4
# Trials fork from a warm launcher (torch imported once: each starts in ~0.1 s, not ~3 s); the
# first waits this long for it, and a launcher not ready by then only makes trials start cold.
WARM_WAIT_S = 20.0  # under WORKER_STALE_S: its heartbeat waits with it
BROKEN_GRACE_S = 2.0  # a trial's run that reads as broken this long fails (sooner: being deleted)
MAX_REPEATED_ASKS = 50  # proposals in a row that were all trained already: the space is used up


class Reason(StrEnum):
    """Why a trial ended without a value (its user attr "ended")."""

    INTERRUPTED = "interrupted"
    STOPPED = "stopped"
    FAILED = "failed"


def default_parallel() -> int:
    """Trials at once: one per core up to 4. Small models use one thread poorly, so on 2 cores
    two one-thread trials beat one two-thread trial (tests/bench/sweep_grid.py)."""
    return max(1, min(machine_cores(), MAX_PARALLEL_AUTO))


@dataclass
class Active:
    trial: object  # optuna.trial.Trial
    run: Run
    params: dict
    broken_since: float | None = None  # when its run first read as broken


class Worker:
    def __init__(self, settings: Settings, sweep: SweepDef, parallel: int = 0,
                 echo=None, wait_all: bool = False):
        """wait_all: return only once no trial runs anywhere (`sweep run` reports them all)."""
        self.wait_all = wait_all
        self.settings, self.sweep, self.echo = settings, sweep, echo or (lambda line: None)
        self.folder = studies.folder(settings.workspace, sweep.id)
        self.store = RunStore(settings.runs_dir)
        self.parallel = parallel or sweep.parallel or default_parallel()
        self.study = studies.open_study(settings.workspace, sweep)
        self.me = f"{socket.gethostname()}:{os.getpid()}"
        self.active: dict[int, Active] = {}
        self.exhausted = False  # the sampler proposes only points already trained

    # -- the loop ----------------------------------------------------------------------------
    def work(self) -> None:
        """Until the study has nothing left to run (or the sweep is asked to stop)."""
        ThreadBudget.for_workspace(self.settings.workspace).unregister(os.getpid())  # not a compute job
        beat = self.folder / "workers" / f"{socket.gethostname()}-{os.getpid()}.json"
        beat.parent.mkdir(exist_ok=True)
        write_json(beat, {"worker": self.me, "heartbeat": time.time()})  # alive while it waits
        with warm.serving(wait_s=WARM_WAIT_S):
            self._work(beat)

    def _work(self, beat: Path) -> None:
        try:
            with self._locked():
                self._recover(requeue_stopped=not self.stop_requested())
            last_beat = 0.0
            while True:
                if time.time() - last_beat >= BEAT_EVERY_S:
                    last_beat = time.time()
                    write_json(beat, {"worker": self.me, "heartbeat": last_beat})
                stopping = self.stop_requested()
                if not stopping:
                    while len(self.active) < self.parallel and self._start_next():
                        pass
                for number in list(self.active):
                    self._follow(self.active[number], stopping)
                if not self.active:
                    with self._locked():
                        self._recover()
                        if stopping or not (self._has_work() or self.wait_all and self._running()):
                            return
                time.sleep(POLL_S)
        finally:
            beat.unlink(missing_ok=True)

    def stop_requested(self) -> bool:
        return (self.folder / "stop").exists()

    @contextmanager
    def _locked(self):
        """One worker at a time asks, adopts and re-queues (fcntl: released if it dies)."""
        with open(self.folder / "worker.lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # -- starting ----------------------------------------------------------------------------
    def _running(self) -> bool:
        """Whether any trial still runs (another worker's: it is adopted if that worker dies)."""
        from optuna.trial import TrialState

        return any(t.state == TrialState.RUNNING for t in self.study.get_trials(deepcopy=False))

    def _has_work(self) -> bool:
        from optuna.trial import TrialState

        trials = self.study.get_trials(deepcopy=False)
        if any(t.state == TrialState.WAITING for t in trials):
            return True
        if self.sweep.search == Search.GRID or self.exhausted:
            return False
        return counted(trials) < self.sweep.n_trials and within_budget(self.sweep, trials)

    def _start_next(self) -> bool:
        with self._locked():
            self._recover()
            if not self._has_work():
                return False
            for _ in range(MAX_REPEATED_ASKS):
                trial = self.study.ask(fixed_distributions=studies.distributions(self.sweep))
                trial.set_user_attr("worker", self.me)  # before another worker's recovery can look
                if not self._answer_from_earlier(trial):
                    break
            else:
                self.exhausted = True
                self.echo(f"the sampler proposed {MAX_REPEATED_ASKS} points in a row that were trained "
                          "already: no new point left to try")
                return False
        params = studies.decode(self.sweep.all_axes, trial.params)
        attrs = self.study.get_trials(deepcopy=False)[trial.number].user_attrs
        try:
            run = self._run_for(trial, params, attrs.get("resume_run"))
        except UserError as exc:  # an invalid combination: this trial fails, the others go on
            trial.set_user_attr("error", str(exc))
            trial.set_user_attr("ended", Reason.FAILED)
            self._tell(trial, failed=True)
            self.echo(f"trial {trial.number} failed: {exc}")
            return True
        self.active[trial.number] = Active(trial, run, params)
        self.echo(f"trial {trial.number} started: run {run.id} {_shown(params)}")
        return True

    def _answer_from_earlier(self, trial) -> bool:
        origin = answer_from_earlier(self.study, self.sweep, trial)
        if origin is not None:
            self.echo(f"trial {trial.number}: the same point as trial {origin}, not trained again")
        return origin is not None

    def _run_for(self, trial, params: dict, resume_id: str | None) -> Run:
        """The trial's run folder, recorded in the trial before its process starts (a worker
        killed in between leaves a queued run that the next worker adopts, never a stray one)."""
        number = trial.number
        resume = self.store.find(resume_id) if resume_id else None
        if resume is not None and (resume.resumable() or never_started(resume)):
            trial.set_user_attr("run", resume.id)
            prune.mark(resume, self.sweep.id, number)
            launch_training(resume, self.settings, resume=resume.resumable())
            return resume
        config = apply(self.sweep.base, params)
        config.sweep = f"{self.sweep.id}#{number}"
        if not self.sweep.base.get("name"):
            config.name = f"{self.sweep.name or 'sweep ' + self.sweep.id} #{number}"
        run = self.store.create(config)
        trial.set_user_attr("run", run.id)
        prune.mark(run, self.sweep.id, number)
        launch_training(run, self.settings)
        return run

    # -- following -----------------------------------------------------------------------------
    def _follow(self, a: Active, stopping: bool) -> None:
        if not a.run.path.is_dir():  # the folder was deleted mid-sweep
            a.trial.set_user_attr("error", f"run folder {a.run.id} was deleted while it trained")
            a.trial.set_user_attr("ended", Reason.FAILED)
            self._end(a, failed=True)
            return
        if stopping and not a.run.stop_requested():
            a.run.request_stop()
        status = a.run.status()
        state = status.get("state")
        if state in ACTIVE:
            return
        if state == RunState.BROKEN:  # a folder being deleted reads as broken before it is gone
            a.broken_since = a.broken_since or time.time()
            if time.time() - a.broken_since < BROKEN_GRACE_S:
                return  # look again: then it is gone (deleted) or still broken (its error)
        if self.study.get_trials(deepcopy=False)[a.trial.number].user_attrs.get("pruned"):
            self._end(a, pruned=True)  # the trial's own process said why (core.sweeps.prune)
        elif state == RunState.DONE and isinstance(status.get("best_metric"), (int, float)):
            self._end(a, value=float(status["best_metric"]))
        elif state == RunState.STOPPED:
            a.trial.set_user_attr("ended", Reason.STOPPED)
            self._end(a, failed=True)
        elif state == RunState.INTERRUPTED:
            a.trial.set_user_attr("ended", Reason.INTERRUPTED)
            self._end(a, failed=True)
            with self._locked():
                self._requeue(a.trial.number)
        else:
            a.trial.set_user_attr("error", str(status.get("error") or state))
            a.trial.set_user_attr("ended", Reason.FAILED)
            self._end(a, failed=True)

    def _end(self, a: Active, value: float | None = None, pruned: bool = False,
             failed: bool = False) -> None:
        self._tell(a.trial, value, pruned, failed)
        self.active.pop(a.trial.number, None)
        shown = TrialState.PRUNED if pruned else Reason.FAILED if failed else f"{self.sweep.metric} {value:.4f}"
        self.echo(f"trial {a.trial.number} ended: {shown}")

    def _tell(self, trial, value=None, pruned=False, failed=False) -> None:
        from optuna.trial import TrialState

        state = TrialState.PRUNED if pruned else TrialState.FAIL if failed else TrialState.COMPLETE
        try:
            self.study.tell(trial.number, value if state == TrialState.COMPLETE else None, state=state)
        except (RuntimeError, ValueError):  # another worker adopted and ended it first
            pass

    # -- recovery ------------------------------------------------------------------------------
    def _recover(self, requeue_stopped: bool = False) -> None:
        """Adopt RUNNING trials whose worker is gone, re-queue interrupted ones; when a worker
        starts (the sweep resumed), re-queue the trials a stop ended too."""
        import optuna
        from optuna.trial import TrialState

        trials = self.study.get_trials(deepcopy=False)
        for t in trials:
            if t.state != TrialState.RUNNING or t.number in self.active:
                continue
            if self._worker_alive(t.user_attrs.get("worker")):
                continue
            trial = optuna.trial.Trial(self.study, t._trial_id)
            run = self.store.find(t.user_attrs.get("run", ""))
            if run is not None and run.status().get("state") in ACTIVE:  # still training: adopt it
                trial.set_user_attr("worker", self.me)
                params = studies.decode(self.sweep.all_axes, t.params)
                self.active[t.number] = Active(trial, run, params)
                self.echo(f"trial {t.number} adopted from a worker that is gone")
                continue
            trial.set_user_attr("ended", Reason.INTERRUPTED)
            self._tell(trial, failed=True)
            self._requeue(t.number)
        if requeue_stopped:
            for t in self.study.get_trials(deepcopy=False):
                if t.state == TrialState.FAIL and t.user_attrs.get("ended") == Reason.STOPPED:
                    self._requeue(t.number, once=False)

    def _requeue(self, number: int, once: bool = True) -> None:
        """Queue a failed trial again (resuming its run); an interrupted one only once."""
        trials = self.study.get_trials(deepcopy=False)
        if any(t.user_attrs.get("retry_of") == number for t in trials):
            return
        t = trials[number]
        retries = int(t.user_attrs.get("interrupted_retries", 0))
        if once and retries >= 1:
            self.echo(f"trial {number} was interrupted again; not queued a third time")
            return
        attrs = {"retry_of": number, "interrupted_retries": retries + (1 if once else 0)}
        if t.user_attrs.get("run"):
            attrs["resume_run"] = t.user_attrs["run"]
        self.study.enqueue_trial(t.params, user_attrs=attrs, skip_if_exists=False)
        self.echo(f"trial {number} queued again")

    def _worker_alive(self, worker) -> bool:
        if worker == self.me:
            return True  # ours, but not in self.active: left from a stop in this process
        return worker_alive(self.folder, worker)


def never_started(run: Run) -> bool:
    """A trial's run folder whose worker died before the run's process started: still queued,
    nothing trained in it, no process. The trial's retry trains it from the start where it is
    (a new folder would leave this one behind as a stray)."""
    status = read_json(run.path / "status.json") or {}
    if run.read_only or status.get("state") != RunState.QUEUED or run.trainer_pid() is not None:
        return False
    if any(p.exists() for p in (run.checkpoint("best"), run.checkpoint("last"), run.path / "metrics.jsonl")):
        return False
    return "pid" not in status or process_gone(status)


def worker_alive(sweep_folder: Path, worker) -> bool:
    """Whether the worker "host:pid" still runs: its process on this host, its heartbeat file
    (fresh within WORKER_STALE_S) on another."""
    if not isinstance(worker, str) or ":" not in worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return pid_alive(int(pid))
    beat = read_json(sweep_folder / "workers" / f"{host}-{pid}.json") or {}
    try:
        return time.time() - float(beat.get("heartbeat") or 0) < WORKER_STALE_S
    except (TypeError, ValueError):
        return False


def live_workers(sweep_folder: Path) -> list[str]:
    """The workers of a sweep that still run ("host:pid"), from their heartbeat files."""
    out = []
    for path in (sweep_folder / "workers").glob("*.json"):
        worker = (read_json(path) or {}).get("worker")
        if worker_alive(sweep_folder, worker):
            out.append(worker)
    return out


def counted(trials) -> int:
    """Trials that count towards n_trials: a re-queued trial replaces the one it repeats, and a
    proposal answered from an earlier trial (same_as) trained nothing."""
    replaced = {t.user_attrs.get("retry_of") for t in trials}
    return sum(1 for t in trials if t.number not in replaced and t.user_attrs.get("same_as") is None)


def answer_from_earlier(study, sweep: SweepDef, trial) -> int | None:
    """A random/TPE proposal equal to a trial trained (or training) already is not trained
    again: it takes that trial's result (value, or pruned with its epochs' values; a point
    still training: failed) and costs no epoch. Queued trials (grid, retries) always train.
    Returns the earlier trial's number, or None when the proposal is new."""
    from optuna.trial import TrialState as Optuna

    trials = study.get_trials(deepcopy=False)
    if sweep.search == Search.GRID or trials[trial.number].system_attrs.get("fixed_params"):
        return None
    done = (Optuna.COMPLETE, Optuna.PRUNED, Optuna.RUNNING)
    origin = next((t for t in trials if t.number < trial.number and t.params == trial.params
                   and t.state in done and t.user_attrs.get("same_as") is None), None)
    if origin is None:
        return None
    trial.set_user_attr("same_as", origin.number)
    try:
        if origin.state == Optuna.COMPLETE:
            study.tell(trial.number, origin.value)
        elif origin.state == Optuna.PRUNED:
            for step, value in origin.intermediate_values.items():
                trial.report(value, step)
            study.tell(trial.number, state=Optuna.PRUNED)
        else:
            study.tell(trial.number, state=Optuna.FAIL)
    except (RuntimeError, ValueError):  # another worker ended it first
        pass
    return origin.number


def within_budget(sweep: SweepDef, trials) -> bool:
    """Whether one more trial fits the sweep's epoch budget: the epochs reported so far, the rest
    of every running trial's epochs and the new trial's, all at most the budget."""
    from optuna.trial import TrialState as Optuna

    if not sweep.epoch_budget:
        return True
    per = studies.max_epochs(sweep)
    trained = [t for t in trials if t.user_attrs.get("same_as") is None]
    spent = sum(len(t.intermediate_values) for t in trained)
    reserved = sum(max(0, per - len(t.intermediate_values)) for t in trained if t.state == Optuna.RUNNING)
    return spent + reserved + per <= sweep.epoch_budget


def _shown(params: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())


def request_stop(workspace: Path, sweep_id: str) -> None:
    """Ask every worker of the sweep to stop its trials (they can be resumed)."""
    (studies.folder(workspace, sweep_id) / "stop").touch()


def clear_stop(workspace: Path, sweep_id: str) -> None:
    (studies.folder(workspace, sweep_id) / "stop").unlink(missing_ok=True)


def start_worker(settings: Settings, sweep_id: str) -> None:
    """`python -m core sweep work SWEEP` in the background (the page's Start and Resume); it
    outlives the browser and the app. Nothing happens while this workspace's worker runs."""
    from core.runs.jobs import core_command, start_job

    clear_stop(settings.workspace, sweep_id)
    start_job(studies.folder(settings.workspace, sweep_id) / "work.json",
              core_command("sweep", "work", sweep_id), settings)


def worker_running(settings: Settings, sweep_id: str) -> bool:
    from core.runs.jobs import job_status

    status = job_status(studies.folder(settings.workspace, sweep_id) / "work.json")
    return bool(status and status.get("state") == JobState.RUNNING)
