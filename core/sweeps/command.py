"""`python -m core sweep create|run|work|status|best|stop`.

    python -m core sweep run --grid model=mlp,default_cnn --grid lr=0.001,0.003 --epochs 1 --json

Axes come as flags (`--grid NAME=V1,V2`, `--axis NAME=LOW..HIGH` for random/TPE) or a JSON/TOML
file (`--axes FILE`: {"lr": [0.001, 0.003], "param.hidden": [[64], [128]]} or
{"axes": {...}, "search": "tpe", "trials": 20, ...}); every other flag is the base training config.
"""
from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

from core.console import dumps
from core.errors import UserError
from core.runs.status import JobState

MAX_AXES_FILE_BYTES = 1 << 20
FILE_KEYS = {"axes", "search", "trials", "repeats", "metric", "prune", "storage", "parallel", "epoch_budget"}


def register(sub) -> None:
    from core.training.config import add_arguments

    p = sub.add_parser("sweep", help="a family of runs: base config + axes, searched with Optuna")
    ss = p.add_subparsers(dest="sweep_command", required=True)
    for name, help_text in (("create", "define a sweep (prints its id)"),
                            ("run", "define a sweep (or take SWEEP) and run it to the end here")):
        q = ss.add_parser(name, help=help_text)
        if name == "run":
            q.add_argument("sweep_id", nargs="?", metavar="SWEEP", help="resume this sweep instead")
        q.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                       help="an axis: an option and its values (repeatable)")
        q.add_argument("--axis", action="append", default=[], metavar="NAME=LOW..HIGH",
                       help="an axis for random/TPE: values, or a range (log:LOW..HIGH)")
        q.add_argument("--axes", metavar="FILE", help="axes (and search settings) in JSON or TOML")
        q.add_argument("--search", choices=["grid", "random", "tpe"], default=None)
        q.add_argument("--trials", type=int, default=None, help="random/TPE: how many trials")
        q.add_argument("--repeats", type=int, default=None, help="seeds per point (mean and spread)")
        q.add_argument("--epoch-budget", type=int, default=None, metavar="N",
                       help="random/TPE: epochs all trials together may train (no trial starts that "
                            "could pass it; a proposal already trained is not trained again)")
        q.add_argument("--metric", default=None, help="val_acc, val_loss or val_mse (default: the model's)")
        q.add_argument("--prune", choices=["none", "median", "hyperband"], default=None,
                       help="stop hopeless trials early on each epoch's metric")
        q.add_argument("--storage", default=None,
                       help="an Optuna storage URL (postgresql://, mysql://, sqlite:///, redis://) "
                            "or a journal file path; default: a journal file in the workspace")
        q.add_argument("--sweep-name", default="", help="display name of the sweep")
        q.add_argument("--yes", action="store_true", help="confirm a sweep estimated to take long")
        q.add_argument("--parallel", type=int, default=None, help="trials at once (default: automatic)")
        q.add_argument("--json", action="store_true")
        q.add_argument("--config", help="the base TrainConfig as a JSON file; flags override it")
        add_arguments(q)
        q.set_defaults(func=_cmd_create if name == "create" else _cmd_run)
    q = ss.add_parser("work", help="run a sweep's queued trials (several processes may share one)")
    q.add_argument("sweep_id", metavar="SWEEP")
    q.add_argument("--parallel", type=int, default=None, help="trials at once (default: automatic)")
    q.add_argument("--job-file", help=argparse.SUPPRESS)
    q.set_defaults(func=_cmd_work)
    for name, func, help_text in (("status", _cmd_status, "trials and their states"),
                                  ("best", _cmd_best, "the best trial and its run"),
                                  ("stop", _cmd_stop, "stop a sweep's trials (run it again to resume)")):
        q = ss.add_parser(name, help=help_text)
        q.add_argument("sweep_id", metavar="SWEEP")
        q.add_argument("--json", action="store_true")
        q.set_defaults(func=func)


def _settings():
    from core.settings import Settings

    return Settings.from_env()


def _read_axes_file(path: str) -> dict:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_AXES_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read --axes {path}: {exc}") from None
    if len(data) > MAX_AXES_FILE_BYTES:
        raise UserError(f"--axes {path} is larger than {MAX_AXES_FILE_BYTES:,} bytes")
    try:
        text = data.decode("utf-8")
        d = tomllib.loads(text) if path.endswith(".toml") else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"--axes {path} is not valid {'TOML' if path.endswith('.toml') else 'JSON'}: "
                        f"{' '.join(str(exc).split())[:160]}") from None
    if not isinstance(d, dict):
        raise UserError(f"--axes {path} must hold an object of axes")
    if "axes" not in d:
        d = {"axes": d}
    unknown = set(d) - FILE_KEYS
    if unknown:
        raise UserError(f"--axes {path}: unknown key(s) {', '.join(sorted(unknown))}; "
                        f"known: {', '.join(sorted(FILE_KEYS))}")
    if not isinstance(d["axes"], dict):
        raise UserError(f"--axes {path}: axes must be an object of name -> values")
    return d


def definition_from_args(args):
    """The checked sweep definition the flags (and --axes file) describe."""
    from core.sweeps import axes as ax
    from core.sweeps.study import Pruner, define
    from core.training.config import config_from_flags

    if args.dataset is None:
        args.dataset = "digits"
    base = config_from_flags(args)
    spec = _read_axes_file(args.axes) if args.axes else {"axes": {}}
    axes = []
    for name, values in spec["axes"].items():
        if isinstance(values, dict):
            axes.append(ax.Axis.from_dict({"name": name, **values}))
        elif isinstance(values, list):
            axes.append(ax.make_axis(name, values))
        else:
            raise UserError(f"axis {name}: give a list of values or {{low, high}}")
    axes += [ax.parse_axis(t) for t in [*args.grid, *args.axis]]
    has_range = any(a.is_range for a in axes)

    def pick(flag, key, default):
        value = getattr(args, flag)
        return value if value is not None else spec.get(key, default)

    search = pick("search", "search", "tpe" if has_range else "grid")
    try:
        search, prune = ax.Search(search), Pruner(pick("prune", "prune", "none"))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return define(base, axes, search, int(pick("trials", "trials", 0) or 0),
                  int(pick("repeats", "repeats", 1)), pick("metric", "metric", "") or "", prune,
                  pick("storage", "storage", "") or "", int(pick("parallel", "parallel", 0) or 0),
                  args.sweep_name, epoch_budget=int(pick("epoch_budget", "epoch_budget", 0) or 0))


def _check_size(sweep, yes: bool) -> None:
    """Refuse a sweep estimated to take long unless confirmed (the estimate is in the message)."""
    from core.data.dataset import load_dataset
    from core.runs.store import open_store
    from core.sweeps import estimate
    from core.sweeps.study import CONFIRM_ABOVE
    from core.sweeps.worker import default_parallel

    if sweep.n_trials <= CONFIRM_ABOVE or yes:
        return
    n_train = len(load_dataset(sweep.base["dataset"]).indices("train"))
    ips = estimate.measured_images_per_s(open_store(_settings()), sweep.base["model"])
    seconds = estimate.wall_seconds(sweep.n_trials, int(sweep.base["epochs"]), n_train, ips,
                                    sweep.parallel or default_parallel())
    raise UserError(f"{sweep.n_trials:,} trials would take about {estimate.describe(seconds)} on "
                    f"{estimate.cores()} cores; pass --yes to run them anyway (or fewer values)")


def _create(args):
    from core.sweeps.study import save_new

    sweep = definition_from_args(args)
    _check_size(sweep, args.yes)
    return save_new(_settings().workspace, sweep)


def _cmd_create(args) -> int:
    sweep = _create(args)
    if args.json:
        print(dumps({"sweep": sweep.id, "trials": sweep.n_trials}))
    else:
        print(f"sweep {sweep.id}: {sweep.n_trials} trials; run it with "
              f"`python -m core sweep work {sweep.id}`")
    return 0


def _echo(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _cmd_run(args) -> int:
    from core.sweeps import study as studies
    from core.sweeps.worker import Worker, clear_stop

    settings = _settings()
    if args.sweep_id:
        if args.grid or args.axis or args.axes:
            raise UserError("give a SWEEP to resume, or axes for a new sweep, not both")
        sweep = studies.load(settings.workspace, args.sweep_id)
        clear_stop(settings.workspace, sweep.id)
    else:
        sweep = _create(args)
    _echo(f"sweep {sweep.id}: {sweep.n_trials} trials")
    Worker(settings, sweep, args.parallel or 0, echo=None if args.json else _echo, wait_all=True).work()
    return _report(settings, sweep, args.json)


def _cmd_work(args) -> int:
    from core.sweeps import study as studies
    from core.sweeps.worker import Worker

    settings = _settings()
    sweep = studies.load(settings.workspace, args.sweep_id)
    _warn_other_workers(settings, sweep)
    Worker(settings, sweep, args.parallel or 0, echo=_echo).work()
    if args.job_file:
        from core.io.atomic import read_json, write_json

        write_json(Path(args.job_file), {**(read_json(Path(args.job_file)) or {}), "state": JobState.DONE})
    return 0


def _warn_other_workers(settings, sweep) -> None:
    """Two workers on one study share it (each queued trial goes to one); say so."""
    from core.sweeps import study as studies
    from core.sweeps.worker import live_workers

    others = live_workers(studies.folder(settings.workspace, sweep.id))
    if others:
        _echo(f"note: {len(others)} other worker(s) already work on sweep {sweep.id}; "
              "they share its trials, none runs twice")


def _report(settings, sweep, as_json: bool) -> int:
    from core.sweeps import results

    rows = results.trials(settings.workspace, sweep)
    best = results.best(rows, sweep.maximize)
    out = {"sweep": sweep.id, "metric": sweep.metric, "search": str(sweep.search),
           **{"summary": results.summary(rows, sweep.n_trials)},
           "best": best and {k: best[k] for k in ("number", "run", "params", "value")},
           "trials": [{k: r[k] for k in ("number", "run", "params", "state", "value", "error", "pruned", "same_as")}
                      for r in rows]}
    if as_json:
        print(dumps(out, indent=2))
        return 0
    print(f"sweep {sweep.id} ({sweep.search}, {sweep.metric}): " + ", ".join(
        f"{v} {k}" for k, v in out["summary"].items() if k in results.STATES and v))
    for r in rows:
        value = f"{r['value']:.4f}" if r["value"] is not None else "-"
        note = r["pruned"] or r["error"] or (f"same point as #{r['same_as']}" if r["same_as"] is not None else "")
        print(f"  #{r['number']:<4} {r['state']:<9} {value:>8}  {r['run'] or '-':<24} "
              f"{json.dumps(r['params'])} {note}")
    return 0


def _cmd_status(args) -> int:
    from core.sweeps import study as studies

    settings = _settings()
    return _report(settings, studies.load(settings.workspace, args.sweep_id), args.json)


def _cmd_best(args) -> int:
    from core.sweeps import results
    from core.sweeps import study as studies

    settings = _settings()
    sweep = studies.load(settings.workspace, args.sweep_id)
    best = results.best(results.trials(settings.workspace, sweep), sweep.maximize)
    if best is None:
        raise UserError(f"sweep {sweep.id} has no complete trial yet")
    shown = {k: best[k] for k in ("number", "run", "params", "value")}
    print(dumps(shown, indent=2) if args.json else
          f"trial {best['number']}: {sweep.metric} {best['value']:.4f}, run {best['run']}, "
          f"{json.dumps(best['params'])}")
    return 0


def _cmd_stop(args) -> int:
    from core.sweeps import study as studies
    from core.sweeps.worker import request_stop

    settings = _settings()
    sweep = studies.load(settings.workspace, args.sweep_id)
    request_stop(settings.workspace, sweep.id)
    print(dumps({"sweep": sweep.id, "stopping": True}) if args.json else
          f"sweep {sweep.id}: stopping its trials; `python -m core sweep run {sweep.id}` resumes it")
    return 0
