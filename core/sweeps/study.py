"""A sweep's definition on disk and its Optuna study (storage, sampler, pruner).

    <workspace>/sweeps/<id>/sweep.json   the definition (base config, axes, search, pruner...)
    <workspace>/sweeps/<id>/journal.log  the Optuna journal (unless a storage URL was given)
    <workspace>/sweeps/<id>/stop         present while the sweep is asked to stop
    <workspace>/sweeps/<id>/workers/     one heartbeat file per `sweep work` process

Each process builds the sampler and pruner again from sweep.json: Optuna keeps the trials, not
the search objects.
"""
from __future__ import annotations

import itertools
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from core.errors import UserError
from core.io.atomic import load_json_object, write_json
from core.sweeps.axes import Axis, Search, check_axes, grid_size, plain
from core.training.config import TrainConfig

SWEEP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MAX_TRIALS = 100_000
CONFIRM_ABOVE = 500  # trials that need --yes (the estimate is shown first)


class Pruner(StrEnum):
    NONE = "none"
    MEDIAN = "median"
    HYPERBAND = "hyperband"


@dataclass
class SweepDef:
    id: str
    base: dict  # a TrainConfig dict
    axes: list[Axis]
    search: Search = Search.GRID
    n_trials: int = 0  # random / TPE: how many; grid: the grid's size (x repeats)
    repeats: int = 1  # seeds per point (a seed axis)
    metric: str = ""  # "" = the base model's monitor (val_acc or val_loss)
    pruner: Pruner = Pruner.NONE
    startup_trials: int = 1  # median pruner: complete trials before it prunes
    storage: str = ""  # "" = the journal file in the sweep folder
    parallel: int = 0  # trials at once per worker; 0 = automatic
    name: str = ""
    epoch_budget: int = 0  # random / TPE: epochs all trials together may train; 0 = no limit
    created: float = field(default_factory=time.time)

    @property
    def study_name(self) -> str:
        return f"sweep-{self.id}"

    @property
    def all_axes(self) -> list[Axis]:
        """The axes plus the seed axis of the repeats."""
        if self.repeats <= 1:
            return list(self.axes)
        seed = int(self.base.get("seed", 0))
        return [*self.axes, Axis("seed", tuple(range(seed, seed + self.repeats)))]

    @property
    def maximize(self) -> bool:
        return self.metric.endswith("acc")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["axes"] = [a.to_dict() for a in self.axes]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SweepDef:
        try:
            return cls(**{**d, "axes": [Axis.from_dict(a) for a in d["axes"]],
                          "search": Search(d["search"]), "pruner": Pruner(d["pruner"])})
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"sweep.json is not a sweep definition ({exc})") from None


def define(base: TrainConfig, axes: list[Axis], search: Search = Search.GRID, n_trials: int = 0,
           repeats: int = 1, metric: str = "", pruner: Pruner = Pruner.NONE, storage: str = "",
           parallel: int = 0, name: str = "", startup_trials: int = 1, epoch_budget: int = 0) -> SweepDef:
    """A checked definition (not yet saved): every axis value is a valid config on its own."""
    base_dict = base.to_dict()
    if not 1 <= repeats <= 100:
        raise UserError("repeats must be between 1 and 100")
    if repeats > 1 and any(a.name == "seed" for a in axes):
        raise UserError("repeats and a seed axis both set the seed; use one of them")
    if not 0 <= parallel <= 64:
        raise UserError("parallel must be between 0 (automatic) and 64")
    check_axes(base_dict, axes)
    sweep = SweepDef("", base_dict, list(axes), Search(search), n_trials, repeats, metric,
                     Pruner(pruner), max(0, startup_trials), storage.strip(), parallel, name, epoch_budget)
    if search == Search.GRID:
        sweep.n_trials = grid_size(sweep.all_axes)
    elif not 1 <= n_trials:
        raise UserError(f"{search} search needs a number of trials (--trials N)")
    if epoch_budget and search == Search.GRID:
        raise UserError("an epoch budget needs random or TPE search (a grid trains every point)")
    if not 0 <= epoch_budget <= MAX_TRIALS * 1000:
        raise UserError(f"the epoch budget must be between 0 (none) and {MAX_TRIALS * 1000:,}")
    if epoch_budget and epoch_budget < max_epochs(sweep):
        raise UserError(f"an epoch budget of {epoch_budget} is less than one trial's {max_epochs(sweep)} epochs")
    if sweep.n_trials > MAX_TRIALS:
        raise UserError(f"{sweep.n_trials:,} trials is more than the {MAX_TRIALS:,} a sweep may have")
    if not metric:
        from core.models.registry import model_kind

        kinds = {model_kind(m) for m in _models(sweep)}
        monitors = {k.monitor for k in kinds}
        if len(monitors) > 1:
            raise UserError("the models of this sweep are scored differently; choose --metric")
        sweep.metric = monitors.pop()
    if sweep.metric not in ("val_acc", "val_loss", "val_mse"):
        raise UserError(f"metric must be val_acc, val_loss or val_mse, not {sweep.metric!r}")
    return sweep


def max_epochs(sweep: SweepDef) -> int:
    """The most epochs one trial may train (an epochs axis, or the base config's)."""
    axis = next((a for a in sweep.all_axes if a.name == "epochs"), None)
    if axis is not None:
        return int(max(axis.values) if axis.values else axis.high)
    return int(sweep.base["epochs"])


def affordable_trials(sweep: SweepDef) -> int:
    """How many trials the sweep can train in full: its trials, fewer under an epoch budget."""
    if not sweep.epoch_budget:
        return sweep.n_trials
    return max(1, min(sweep.n_trials, sweep.epoch_budget // max_epochs(sweep)))


def _models(sweep: SweepDef) -> set[str]:
    axis = next((a for a in sweep.axes if a.name == "model"), None)
    return set(axis.values) if axis else {sweep.base["model"]}


# -- the sweeps folder -------------------------------------------------------------------------
def sweeps_dir(workspace: Path) -> Path:
    return Path(workspace) / "sweeps"


def folder(workspace: Path, sweep_id: str) -> Path:
    if not isinstance(sweep_id, str) or not SWEEP_ID.fullmatch(sweep_id):
        raise UserError(f"{str(sweep_id)[:60]!r} is not a sweep id")
    return sweeps_dir(workspace) / sweep_id


def save_new(workspace: Path, sweep: SweepDef) -> SweepDef:
    """Give the sweep an id and a folder, write sweep.json and create its study (the grid's
    points are queued in it at once, so workers only pop them)."""
    root = sweeps_dir(workspace)
    root.mkdir(parents=True, exist_ok=True)
    while True:
        sweep.id = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        try:
            (root / sweep.id).mkdir()
            break
        except FileExistsError:
            continue
    try:
        study = create_study(workspace, sweep)
        if sweep.search == Search.GRID:
            axes = sweep.all_axes
            for values in itertools.product(*(a.values for a in axes)):
                study.enqueue_trial({a.name: encode(a, v) for a, v in zip(axes, values)},
                                    skip_if_exists=False)
    except BaseException:
        import shutil

        shutil.rmtree(root / sweep.id, ignore_errors=True)
        raise
    write_json(root / sweep.id / "sweep.json", sweep.to_dict())
    return sweep


def load(workspace: Path, sweep_id: str) -> SweepDef:
    path = folder(workspace, sweep_id) / "sweep.json"
    if not path.exists():
        raise UserError(f"no sweep {sweep_id!r} in {sweeps_dir(workspace)}")
    try:
        return SweepDef.from_dict(load_json_object(path))
    except UserError as exc:
        raise UserError(f"sweep {sweep_id}: {exc}") from None


def list_sweeps(workspace: Path) -> list[SweepDef]:
    """Newest first; folders without a readable sweep.json are left out."""
    out = []
    try:
        paths = sorted(sweeps_dir(workspace).glob("*/sweep.json"), reverse=True)
    except OSError:
        return []
    for path in paths:
        try:
            out.append(SweepDef.from_dict(load_json_object(path)))
        except UserError:
            continue
    return out


# -- Optuna --------------------------------------------------------------------------------------
def storage(workspace: Path, sweep: SweepDef):
    """The journal file in the sweep folder, or the storage URL the sweep names."""
    import optuna

    url = sweep.storage
    try:
        if not url or "://" not in url:
            from optuna.storages.journal import JournalFileBackend, JournalStorage

            path = Path(url) if url else folder(workspace, sweep.id) / "journal.log"
            return JournalStorage(JournalFileBackend(str(path)))
        return optuna.storages.RDBStorage(url, engine_kwargs={"pool_pre_ping": True}) \
            if not url.startswith("redis") else _redis(url)
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"cannot open the sweep's storage {url or 'journal file'}: "
                        f"{type(exc).__name__}: {_first_line(exc)}") from None


def _redis(url: str):
    from optuna.storages.journal import JournalRedisBackend, JournalStorage

    return JournalStorage(JournalRedisBackend(url))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


def create_study(workspace: Path, sweep: SweepDef):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        return optuna.create_study(storage=storage(workspace, sweep), study_name=sweep.study_name,
                                   direction="maximize" if sweep.maximize else "minimize",
                                   sampler=sampler(sweep), pruner=pruner(sweep))
    except optuna.exceptions.DuplicatedStudyError:
        raise UserError(f"the storage already holds a study named {sweep.study_name}") from None
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"cannot create the sweep's study in {sweep.storage or 'its journal'}: "
                        f"{type(exc).__name__}: {_first_line(exc)}") from None


def open_study(workspace: Path, sweep: SweepDef):
    """The sweep's study; one line when the storage is unreachable, corrupt or another's."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    store = storage(workspace, sweep)
    try:
        names = [s.study_name for s in store.get_all_studies()]
    except Exception as exc:
        raise UserError(f"the sweep's storage {sweep.storage or 'journal file'} cannot be read "
                        f"(corrupt?): {type(exc).__name__}: {_first_line(exc)}") from None
    if sweep.study_name not in names:
        where = sweep.storage or str(folder(workspace, sweep.id) / "journal.log")
        raise UserError(f"{where} holds no study {sweep.study_name}: it is corrupt, emptied or "
                        "another sweep's")
    return optuna.load_study(study_name=sweep.study_name, storage=store, sampler=sampler(sweep),
                             pruner=pruner(sweep))


def sampler(sweep: SweepDef):
    import optuna

    if sweep.search == Search.GRID:
        return optuna.samplers.GridSampler({a.name: [encode(a, v) for v in a.values]
                                            for a in sweep.all_axes}, seed=0)
    if sweep.search == Search.RANDOM:
        return optuna.samplers.RandomSampler(seed=int(sweep.base.get("seed", 0)))
    # TPE's default of 10 random trials first would make a short sweep a random one: it models
    # after a third of the trials it can afford (tests/bench/sweeps.py, sweep_prune)
    return optuna.samplers.TPESampler(seed=int(sweep.base.get("seed", 0)),
                                      n_startup_trials=min(10, max(2, affordable_trials(sweep) // 3)))


def pruner(sweep: SweepDef):
    import optuna

    if sweep.pruner == Pruner.MEDIAN:
        # a slow starter (a CNN after one epoch) judged against a single faster trial was pruned
        # though it ended best: judge against a third of the trials the sweep can afford (1 to 3)
        return optuna.pruners.MedianPruner(n_startup_trials=sweep.startup_trials,
                                           n_min_trials=min(3, max(1, affordable_trials(sweep) // 3)))
    if sweep.pruner == Pruner.HYPERBAND:
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=int(sweep.base["epochs"]))
    return optuna.pruners.NopPruner()


def distributions(sweep: SweepDef) -> dict:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out = {}
    for a in sweep.all_axes:
        if a.values:
            out[a.name] = CategoricalDistribution([encode(a, v) for v in a.values])
        elif a.integer:
            out[a.name] = IntDistribution(int(a.low), int(a.high), log=a.log)
        else:
            out[a.name] = FloatDistribution(a.low, a.high, log=a.log)
    return out


def encode(axis: Axis, value):
    """A value as Optuna may store it: lists (e.g. hidden sizes) as their JSON text."""
    return json.dumps(plain(value)) if isinstance(value, (tuple, list)) else value


def decode(axes: list[Axis], params: dict) -> dict:
    """Optuna's params back to option values."""
    by_name = {a.name: a for a in axes}
    out = {}
    for name, value in params.items():
        axis = by_name.get(name)
        if axis is not None and isinstance(value, str) and any(isinstance(v, tuple) for v in axis.values):
            value = json.loads(value)
        out[name] = value
    return out
