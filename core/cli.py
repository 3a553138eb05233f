"""`python -m core`: the same operations the pages use, for a shell or a script.

Errors a user can cause print one line to stderr and exit with status 2; anything unexpected
prints one line too and exits with 1 (`--debug` shows its traceback). `--json` output is
strict JSON (NaN and infinities become null). A closed stdout (`train | head -1`) ends the
output, never the work.
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from pathlib import Path

import numpy as np

from core.anomaly import command as threshold_command
from core.anomaly.command import scores_help, strategies_help
from core.console import GeneratedHelp, OutputThatOutlivesItsReader, dumps, printable
from core.errors import UserError
from core.training.config import config_from_flags, run_config

# Commands that live with their feature: each module's register(sub) adds its subparser.
COMMAND_MODULES = ("core.sweeps.command", "core.audit.command")

MAX_PREDICT_BATCH = 65536


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line (`error: ...`, exit 2) instead of the usage text;
    subcommands' parsers are of this class too (add_subparsers makes them like their parent)."""

    def error(self, message: str):
        command = self.prog.split()[-1] if " " in self.prog else ""
        where = f"{command}: " if command and command != "core" else ""
        self.exit(2, f"error: {where}{printable(' '.join(message.split()))} "
                     f"(see {printable(self.prog)} --help)\n")


def _int_in(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number from {low} to {high:,}, "
                                             f"not {text[:40]!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high:,}, not {value:,}")
        return value
    return parse


_NEGATIVE_VALUE = re.compile(r"-(inf(inity)?|nan|\d|\.\d)", re.IGNORECASE)


def _join_negative_values(argv: list[str]) -> list[str]:
    """`--threshold -inf` as `--threshold=-inf`: argparse takes a value starting with "-" that
    is not a plain negative number for an option, and would say only "expected one argument"."""
    out: list[str] = []
    for token in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and _NEGATIVE_VALUE.match(token) \
                and not token.startswith("--"):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def _trained_run(run_id: str):
    """(settings, run) for a run that has a best checkpoint to read."""
    from core.runs.store import open_store
    from core.settings import Settings

    settings = Settings.from_env()
    run = open_store(settings).get(run_id)
    if not run.checkpoint("best").exists():
        raise UserError(f"{run.name()} has no trained model yet (no best.pt in {run.path}); "
                        "train it or choose another run")
    return settings, run


def _cmd_sources(args) -> int:
    from core.data.sources import all_sources

    rows = [{"name": s.name, "title": s.title, "needs_root": s.needs_root,
             "description": s.description} for s in all_sources()]
    if args.json:
        print(dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['name']:<14} {r['description']}" + ("  [root=...]" if r["needs_root"] else ""))
    return 0


def _cmd_models(args) -> int:
    from core.models import MODELS

    rows = [{"name": m.name, "kind": str(m.kind), "title": m.title, "description": m.description,
             "params": {k: list(v) if isinstance(v, tuple) else v
                        for k, v in m.default_params.items()}} for m in MODELS.values()]
    if args.json:
        print(dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['name']:<20} {r['kind']:<12} {r['description']}")
    return 0


def _cmd_describe(args) -> int:
    from core.data.dataset import load_dataset
    from core.data.stats import summary

    def progress(fraction: float, text: str) -> None:
        print(f"\r{text} ({fraction:.0%})", end="", file=sys.stderr, flush=True)

    show_progress = sys.stderr.isatty()
    try:
        ds = load_dataset(args.spec, download=args.download,
                          progress=progress if show_progress else None)
    finally:
        if show_progress:
            print("\r\033[K", end="", file=sys.stderr, flush=True)  # clear the progress line
    for warning in ds.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    info = summary(ds)
    info["load_seconds"] = round(ds.load_seconds, 3)
    info["from_cache"] = ds.from_cache
    info["warnings"] = list(ds.warnings)
    if args.json:
        print(dumps(info, indent=2, ensure_ascii=False))
        return 0
    print(f"dataset   {info['spec']}")
    print(f"shape     {info['channels']} x {info['height']} x {info['width']} (C x H x W), "
          f"{info['n_classes']} classes")
    splits = list(info["per_class"])
    print(f"{'class':<16}" + "".join(f"{s:>8}" for s in splits))
    for i, name in enumerate(info["classes"]):
        print(f"{name[:16]:<16}" + "".join(f"{info['per_class'][s][i]:>8}" for s in splits))
    print(f"{'total':<16}" + "".join(f"{info['images'][s]:>8}" for s in splits))
    print("max/min   " + ", ".join(f"{s} {r:.2f}" for s, r in info["imbalance_ratio"].items()))
    if info["skipped"]:
        print(f"skipped   {len(info['skipped'])} file(s):")
        for path, reason in info["skipped"]:
            print(f"  {path}: {reason}")
    return 0


def _print_epoch(record: dict) -> None:
    keys = [k for k in ("train_loss", "train_acc", "val_loss", "val_acc", "val_mse") if k in record]
    if record["epoch"] == 1 or not getattr(_print_epoch, "header", False):
        print(f"{'epoch':>5} " + " ".join(f"{k:>10}" for k in keys) + f" {'img/s':>8} {'sec':>6}")
        _print_epoch.header = True
    print(f"{record['epoch']:>5} " + " ".join(f"{record[k]:>10.4f}" for k in keys)
          + f" {record['images_per_s']:>8.0f} {record['seconds']:>6.2f}" + (" *" if record["best"]
                                                                             else ""), flush=True)


def _cmd_train(args) -> int:
    import dataclasses

    from core.runs.status import RunState
    from core.runs.store import Run, open_store
    from core.runs.threads import ThreadBudget
    from core.settings import Settings
    from core.training.runner import train_run

    settings = Settings.from_env()
    store = open_store(settings)
    resume = args.resume is not None
    def folder_run(path: Path) -> Run:  # a shipped run stays read-only however it is named
        shipped = settings.shipped_dir and Path(settings.shipped_dir).resolve()
        return Run(path, read_only=bool(shipped and path.resolve().is_relative_to(shipped)))

    if args.run:  # a folder the dashboard queued (with --resume: continue it)
        run = folder_run(Path(args.run))
    elif args.resume:
        run = folder_run(Path(args.resume)) if Path(args.resume).is_dir() else store.get(args.resume)
    elif resume:
        raise UserError("--resume needs a run id or folder (or --run FOLDER)")
    elif int(os.environ.get("RANK", "0")) > 0:  # under torchrun only rank 0 makes the folder
        run = None
    else:
        from core.data.dataset import load_dataset
        from core.training.loop import resolve_device
        from core.training.preflight import training_problems

        config = config_from_flags(args)
        # Everything that can refuse the config (device, dataset, model, loss) runs before the
        # run folder exists, so a refused command leaves nothing behind: the Train page's checks.
        resolve_device(config.device)
        problems = training_problems(config, load_dataset(config.dataset, settings))
        if problems:
            raise UserError(problems[0])
        run = store.create(config)
    config = run_config(run) if run else config_from_flags(args)
    if run and run.read_only:
        raise UserError("shipped runs are read-only; train a new run instead")
    if run and resume and args.epochs:
        # continuing for longer than first planned: validated here, saved by train_run
        config = dataclasses.replace(config, epochs=args.epochs)
    if run:
        print(f"run {run.id} in {run.path}", flush=True)
    echo = _print_epoch
    if run and config.sweep:  # a sweep's trial reports each epoch to its study (pruning)
        from core.sweeps.prune import epoch_hook

        echo = epoch_hook(run, settings.workspace, echo)
    state, trainer = train_run(run, config, resume=resume, echo=echo,
                               budget=ThreadBudget.for_workspace(settings.workspace))
    if trainer.ctx.is_main:
        print(f"{state}: best {trainer.monitor} {trainer.best_metric} at epoch {trainer.best_epoch}")
        if state == RunState.DIVERGED:
            print("error: training diverged: the loss became NaN or infinite; lower the learning "
                  "rate, momentum or loss parameters (best.pt keeps the last good weights, if any)",
                  file=sys.stderr)
    return {RunState.DONE: 0, RunState.STOPPED: 0, RunState.DIVERGED: 3}.get(state, 1)


def _cmd_evaluate(args) -> int:
    from core.evaluation.classification import classification_metrics, confusion, per_class_frame, predict

    settings, run = _trained_run(args.run)
    p = predict(run, args.split, settings)
    for note in p.notes:
        print(f"warning: {note}", file=sys.stderr)
    metrics = classification_metrics(p)
    if args.json:
        print(dumps({**metrics, "run": run.id, "split": args.split,
                          "confusion": confusion(p).tolist(), "classes": list(p.classes)}, indent=2))
        return 0
    print(f"{run.name()} on the {args.split} split ({metrics['n']} images)")
    for key in ("balanced_accuracy", "macro_f1", "accuracy", "weighted_f1"):
        print(f"  {key:<18} {metrics[key]:.4f}")
    print(f"  {'majority baseline':<18} {metrics['majority_baseline']:.4f}")
    print(per_class_frame(metrics).round(4).to_string())
    return 0


def _cmd_embed(args) -> int:
    import time

    from core.latent.features import extract
    from core.latent.methods import check_params, numba_cache
    from core.latent.projection import numba_dir, projection, projection_job

    settings, run = _trained_run(args.run)
    numba_cache(numba_dir(settings))  # before umap (numba) is imported
    from core.io.files import loads

    params = loads(args.params, "--params", finite=True) if args.params else {}
    try:
        params = check_params(args.method, params)
    except UserError as exc:
        raise UserError(f"--params: {exc}") from None
    job = Path(args.job_file) if args.job_file else None
    if job and hasattr(os, "nice"):  # a page started it: its server and browser go first
        os.nice(10)
    started = time.time()
    if job:  # one process per job, one projection of a run at a time, none nobody reads
        done = projection_job(run, settings, args.method, params, job)
        if done is None:
            print("not computed: another process runs this job, or nobody reads it any more")
            return 0
        rows, xy, hit, features = done
    else:
        features = extract(run, settings)
        rows, xy, hit = projection(run, settings, args.method, params, features)
    seconds = time.time() - started
    info = {"run": run.id, "method": args.method, "params": params, "layer": features.layer,
            "points": int(len(rows)), "of": features.n, "from_cache": hit, "seconds": round(seconds, 3)}
    if args.json:
        info["xy"] = xy.tolist()
        info["rows"] = rows.tolist()
        print(dumps(info))
    else:
        print(" ".join(f"{k}={v}" for k, v in info.items()))
    return 0


def _cmd_disputable(args) -> int:
    import pandas as pd

    from core.data.dataset import load_dataset
    from core.io.atomic import write_target, write_text
    from core.latent.features import extract
    from core.latent.geometry import check_tolerance, class_centres, disputable

    check_tolerance(args.tol)  # before anything is loaded: NaN or -1 would select nothing
    csv_path = Path(args.csv) if args.csv else None
    if csv_path is not None and not csv_path.parent.is_dir():
        raise UserError(f"--csv {args.csv}: folder {csv_path.parent} does not exist")
    if csv_path is not None:
        write_target(csv_path)  # a folder or a link out of its folder: said before the work
    settings, run = _trained_run(args.run)
    ds = load_dataset(run_config(run).dataset, settings)
    codes = extract(run, settings, ds).codes
    train, split = ds.indices("train"), ds.indices(args.split)
    centres = class_centres(codes[train], ds.labels[train], len(ds.classes))
    d = disputable(codes[split], ds.labels[split], centres, args.tol, args.mode)
    names = np.asarray(ds.classes)
    table = pd.DataFrame({"index": split[d.rows], "class": names[ds.labels[split][d.rows]],
                          "other_class": names[d.other_class[d.rows]], "d_own": d.own[d.rows],
                          "d_other": d.other[d.rows], args.mode: d.measure[d.rows]})
    if csv_path is not None:
        try:
            write_text(csv_path, table.to_csv(index=False))
        except OSError as exc:
            raise UserError(f"cannot write --csv {args.csv}: {exc.strerror or exc}") from None
        print(f"{len(table)} disputable images written to {args.csv}")
    else:
        print(table.to_string(index=False))
    return 0


def _cmd_ship(args) -> int:
    from core.settings import Settings
    from core.shipping import SHIPPED, ship, ship_thresholds, verify

    out = Path(args.out) if args.out else Settings.from_env().shipped_dir
    unknown = [printable(n) for n in args.names if n not in SHIPPED]
    if unknown:
        raise UserError(f"no shipped run named {', '.join(unknown)}; shipped runs: {', '.join(SHIPPED)}")
    if args.verify and not (out / "manifest.json").is_file():
        raise UserError(f"{out} has no manifest.json to verify against")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder")
    if args.verify:
        problems = verify(out)
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    (ship_thresholds if args.thresholds else ship)(out, args.names or None)
    return 0


def _cmd_predict(args) -> int:
    from core.predict.commands import predict_command

    return predict_command(args)


def _cmd_export(args) -> int:
    from core.predict.commands import export_command

    return export_command(args)

def build_parser(prog: str = "python -m core") -> argparse.ArgumentParser:
    from core.latent.methods import Method, params_help
    from core.latent.warmup import register as register_warm_up
    from core.training.config import add_arguments

    parser = OneLineParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", required=True)
    register_warm_up(sub)
    p = sub.add_parser("sources", help="list the dataset sources")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_sources)
    p = sub.add_parser("models", help="list the models that can be trained")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_models)
    p = sub.add_parser("describe", help="counts per class and split, shape, pixel statistics")
    p.add_argument("spec", help="dataset spec, e.g. digits or 'cifar100?root=data&classes=clock,crocodile'")
    p.add_argument("--json", action="store_true")
    p.add_argument("--download", action="store_true", help="download torchvision files if missing")
    p.set_defaults(func=_cmd_describe)

    p = sub.add_parser("train", help="train a model into a run folder (the dashboard runs this too)")
    p.add_argument("--run", help="train the queued run in this folder (as the dashboard does)")
    p.add_argument("--resume", nargs="?", const="", default=None,
                   help="continue a run (id or folder) from its last checkpoint")
    p.add_argument("--config", help="a TrainConfig JSON file; flags override its values")
    add_arguments(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="classification metrics of a run on a split")
    p.add_argument("run", help="run id (see the Runs page) or a shipped run's name")
    p.add_argument("--split", choices=["val", "test"], default="test")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_evaluate)

    threshold_command.register(sub)

    p = sub.add_parser("embed", help="project a run's codes to 2-D (cached in the run)")
    p.add_argument("run")
    p.add_argument("--method", choices=list(Method), default=Method.PCA)
    p.add_argument("--params", help="JSON object of the method's parameters, e.g. "
                                     '{"n_neighbors": 15}; ' + params_help())
    p.add_argument("--job-file", help=argparse.SUPPRESS)  # status file the dashboard polls
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_embed)

    p = sub.add_parser("disputable", help="rank images about as close to another class centre")
    p.add_argument("run")
    p.add_argument("--tol", type=float, default=0.2)
    p.add_argument("--mode", choices=["ratio", "difference"], default="ratio")
    p.add_argument("--split", choices=["train", "val", "test"], default="test")
    p.add_argument("--csv", help="write the ranking here instead of printing it")
    p.set_defaults(func=_cmd_disputable)

    p = sub.add_parser("ship", help="retrain the shipped digits runs and rewrite weights/")
    p.add_argument("names", nargs="*", help="only these (default: all)")
    p.add_argument("--out", help="folder (default: the shipped weights folder)")
    p.add_argument("--verify", action="store_true", help="check files against the manifest")
    p.add_argument("--thresholds", action="store_true", help="only rewrite the anomaly runs' "
                                                             "saved thresholds (no retraining)")
    p.set_defaults(func=_cmd_ship)

    p = sub.add_parser("predict", help="apply a run (or an exported bundle) and its threshold to "
                                       "new images", formatter_class=GeneratedHelp)
    p.add_argument("source", metavar="RUN_OR_BUNDLE", help="run id, or a bundle folder or .zip")
    p.add_argument("input", metavar="INPUT", help="image folder (any depth), one image, a .zip, "
                                                  "or a dataset spec")
    p.add_argument("--threshold", default="saved",
                   help=lambda: "saved (default: the one saved on the Anomaly page), a value, or a "
                                "strategy re-fitted on the validation split: " + strategies_help()
                                + "; a classifier: saved, argmax or a probability of its second "
                                  "class (2 classes)")
    p.add_argument("--score", help=lambda: "anomaly score (default: the one whose threshold was "
                                           "saved last, else mse): " + scores_help())
    p.add_argument("--csv", help="write one row per image here")
    p.add_argument("--json", action="store_true")
    p.add_argument("--fdr", metavar="Q", help="flag by Benjamini-Hochberg on conformal "
                   "p-values at false-discovery level Q (0 < Q < 1) instead of the threshold")
    p.add_argument("--batch-size", type=_int_in(1, MAX_PREDICT_BATCH), default=1024,
                   help="images read and scored at once")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("export", help="write a run as a bundle that predicts without the run "
                                      "folder: model, manifest, checksums")
    p.add_argument("run")
    p.add_argument("out_dir", metavar="OUT_DIR", help="a new (or empty) folder")
    p.add_argument("--format", choices=["torchscript", "onnx"], default="torchscript",
                   help="onnx needs the onnx extra: pip install smalldl[onnx]")
    p.set_defaults(func=_cmd_export)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def _one_line(exc: BaseException) -> str:
    return printable(" ".join(str(exc).split()) or type(exc).__name__)


def _os_problem(exc: OSError) -> str:
    """The system's reason and the folder it concerns, in one line."""
    reason = exc.strerror or _one_line(exc)
    if not exc.filename:
        return f"{reason} (a full disk, or a folder that cannot be written?)"
    if not isinstance(exc.filename, (str, bytes, os.PathLike)):
        return f"{reason} ({exc.filename})"
    path = Path(os.fsdecode(exc.filename))
    folder = path if path.is_dir() else path.parent
    return _one_line(f"{reason}: {path} (check that {folder} exists, can be written and has free space)")


def _show_warning(message, category, filename, lineno, file=None, line=None, _default=None) -> None:
    """Our own warnings (a cache not saved) as one `warning:` line; others as Python shows them."""
    from core.io.atomic import CacheNotSaved

    if issubclass(category, CacheNotSaved):
        print(f"warning: {_one_line(message)}", file=sys.stderr)
    else:
        _default(message, category, filename, lineno, file, line)


def main(argv: list[str] | None = None, prog: str = "python -m core") -> int:
    import functools
    import warnings

    real_stdout, real_show = sys.stdout, warnings.showwarning
    sys.stdout = OutputThatOutlivesItsReader(real_stdout)
    warnings.showwarning = functools.partial(_show_warning, _default=real_show)
    try:
        try:
            args = build_parser(prog).parse_args(_join_negative_values(
                list(sys.argv[1:] if argv is None else argv)))
        except SystemExit as exc:  # a usage error (one line, see OneLineParser) or --help
            return exc.code if isinstance(exc.code, int) else 2
        try:
            return args.func(args)
        except UserError as exc:
            print(f"error: {_one_line(exc)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            return 130
        except OSError as exc:  # a full disk, a read-only or vanished folder: the user's to fix
            print(f"error: {_os_problem(exc)}", file=sys.stderr)
            return 2
        except Exception as exc:
            if args.debug or os.environ.get("DASH_DEBUG"):
                raise
            print(f"error: unexpected {type(exc).__name__}: {_one_line(exc)} (a bug, not your "
                  f"input; run `{prog} --debug ...` for the traceback)", file=sys.stderr)
            return 1
    finally:
        sys.stdout, warnings.showwarning = real_stdout, real_show
