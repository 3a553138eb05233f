"""`python -m core`: the same operations the pages use, for a shell or a script.

Errors a user can cause print one line to stderr and exit with status 2; anything unexpected
prints one line too and exits with 1 (`--debug` shows its traceback). `--json` output is
strict JSON (NaN and infinities become null). A closed stdout (`train | head -1`) ends the
output, never the work.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from core.console import OutputThatOutlivesItsReader, dumps
from core.errors import UserError

MAX_CONFIG_BYTES = 1 << 20


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


def _config_from_args(args):
    from core.training.config import TrainConfig, config_from_args

    base = {}
    if args.config:
        try:
            with open(args.config, "rb") as f:  # bounded: --config /dev/zero must not hang
                data = f.read(MAX_CONFIG_BYTES + 1)
            text = data.decode("utf-8")
        except (OSError, ValueError) as exc:  # UnicodeDecodeError and a NUL in the path too
            raise UserError(f"cannot read --config {args.config}: {exc}") from None
        if len(data) > MAX_CONFIG_BYTES:
            raise UserError(f"--config {args.config} is larger than {MAX_CONFIG_BYTES:,} bytes; "
                            "a training config is a small JSON object")
        try:
            base = TrainConfig.from_json(text).to_dict()
        except UserError as exc:
            raise UserError(f"--config {args.config}: {exc}") from None
    return config_from_args(args, base)


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
        import torch

        from core.training.data import prepare
        from core.training.loop import Trainer, resolve_device

        config = _config_from_args(args)
        # Everything that can refuse the config (device, dataset, model, loss) runs before the
        # run folder exists, so a refused command leaves nothing behind.
        resolve_device(config.device)
        Trainer(config, prepare(config, torch.device("cpu")), torch.device("cpu"))
        run = store.create(config)
    config = run.config() if run else _config_from_args(args)
    if run and run.read_only:
        raise UserError("shipped runs are read-only; train a new run instead")
    if run and resume and args.epochs:
        # continuing for longer than first planned: validated here, saved by train_run
        config = dataclasses.replace(config, epochs=args.epochs)
    if run:
        print(f"run {run.id} in {run.path}", flush=True)
    state, trainer = train_run(run, config, resume=resume, echo=_print_epoch,
                               budget=ThreadBudget.for_workspace(settings.workspace))
    if trainer.ctx.is_main:
        print(f"{state}: best {trainer.monitor} {trainer.best_metric} at epoch {trainer.best_epoch}")
    return {"done": 0, "stopped": 0, "diverged": 3}.get(state, 1)


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


def _cmd_threshold(args) -> int:
    from core.anomaly.scores import compute_scores
    from core.anomaly.strategies import make_strategy
    from core.evaluation.sweep import ThresholdSweep

    settings, run = _trained_run(args.run)
    normal = tuple(c for c in (args.normal or "").split(",") if c) or None
    scores = compute_scores(run, settings, normal)
    if args.score not in scores.scores:
        raise UserError(f"unknown score {args.score!r}; this run has: {', '.join(scores.scores)}")
    values = scores.scores[args.score]
    val, test = scores.part("val"), scores.part("test")
    strategy = make_strategy(args.strategy).fit(values[val], scores.is_anomaly[val])
    for warning in strategy.warnings_:
        print(f"warning: {warning}", file=sys.stderr)
    if strategy.threshold_ is None:
        raise UserError(f"strategy {args.strategy} could not be fitted on the validation split")
    result = {"run": run.id, "score": args.score, "strategy": args.strategy,
              "threshold": strategy.threshold_, "normal_classes": list(scores.view.normal_classes),
              "trained_on_normal_only": scores.trained_on_normal_only,
              "val": ThresholdSweep(values[val], scores.is_anomaly[val]).metrics(strategy.threshold_),
              "test": ThresholdSweep(values[test], scores.is_anomaly[test]).metrics(strategy.threshold_)}
    if args.json:
        print(dumps(result, indent=2))
        return 0
    print(f"{run.name()}: {args.score} >= {strategy.threshold_:.6g} is an anomaly ({args.strategy}, "
          f"tuned on val, reported on test)")
    for split in ("val", "test"):
        m = result[split]
        print(f"  {split:<5} TPR {m['tpr']:.3f}  TNR {m['tnr']:.3f}  precision {m['precision']:.3f}"
              f"  F1 {m['f1']:.3f}  TP {m['tp']} FP {m['fp']} TN {m['tn']} FN {m['fn']}")
    if not scores.trained_on_normal_only:
        print("note: this run saw the anomaly classes during training", file=sys.stderr)
    return 0


def _cmd_embed(args) -> int:
    import time

    from core.latent.features import extract
    from core.latent.methods import numba_cache
    from core.latent.projection import numba_dir, projection
    from core.runs.jobs import progress_reporter
    from core.runs.store import write_json

    settings, run = _trained_run(args.run)
    numba_cache(numba_dir(settings))  # before umap (numba) is imported
    known = {"pca": {}, "umap": {"n_neighbors": (2, 200), "min_dist": (0.0, 1.0)},
             "tsne": {"perplexity": (1.0, 100.0)}}[args.method]
    try:
        params = json.loads(args.params) if args.params else {}
    except ValueError as exc:
        raise UserError(f"--params is not valid JSON: {exc}") from None
    if not isinstance(params, dict):
        raise UserError('--params takes a JSON object, e.g. {"n_neighbors": 15}')
    for key, value in params.items():
        if key not in known:
            raise UserError(f"--params: {args.method} takes "
                            f"{', '.join(known) or 'no parameters'}, not {key!r}")
        low, high = known[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not low <= value <= high:
            raise UserError(f"--params: {key} must be a number from {low:g} to {high:g}, "
                            f"not {value!r}")
    job = Path(args.job_file) if args.job_file else None
    report = progress_reporter(job) if job else None
    if job and hasattr(os, "nice"):  # a page started it: its server and browser go first
        os.nice(10)
    started = time.time()
    try:
        features = extract(run, settings)
        rows, xy, hit = projection(run, settings, args.method, params, features, progress=report)
    except Exception as exc:
        if job:
            write_json(job, {"state": "failed", "error": str(exc), "started": started})
        raise
    seconds = time.time() - started
    if job:
        write_json(job, {"state": "done", "started": started, "seconds": seconds, "fraction": 1.0,
                         "pid": os.getpid()})
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
    ds = load_dataset(run.config().dataset, settings)
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
    from core.runs.shipping import ship, verify
    from core.settings import Settings

    out = Path(args.out) if args.out else Settings.from_env().shipped_dir
    if args.verify:
        problems = verify(out)
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    ship(out, args.names or None)
    return 0


def _cmd_predict(args) -> int:
    from core.predict.commands import predict_command

    return predict_command(args)


def _cmd_export(args) -> int:
    from core.predict.commands import export_command

    return export_command(args)

def build_parser(prog: str = "python -m core") -> argparse.ArgumentParser:
    from core.training.config import add_arguments

    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", required=True)
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

    p = sub.add_parser("threshold", help="tune an anomaly threshold on val, report it on test")
    p.add_argument("run", help="autoencoder or VAE run id")
    p.add_argument("--strategy", default="f1",
                   help="f1, youden, mean, gmm, tnr=0.95, fpr=0.05 or percentile=99")
    p.add_argument("--score", default="mse", help="mse, l1, mse_l1, neg_elbo, gmm_nll, knn, mahalanobis")
    p.add_argument("--normal", help="comma-separated normal classes (default: the run's own)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_threshold)

    p = sub.add_parser("embed", help="project a run's codes to 2-D (cached in the run)")
    p.add_argument("run")
    p.add_argument("--method", choices=["pca", "umap", "tsne"], default="pca")
    p.add_argument("--params", help='JSON, e.g. {"n_neighbors": 15} or {"perplexity": 30}')
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
    p.set_defaults(func=_cmd_ship)

    p = sub.add_parser("predict", help="apply a run (or an exported bundle) and its threshold to "
                                       "new images")
    p.add_argument("source", metavar="RUN_OR_BUNDLE", help="run id, or a bundle folder or .zip")
    p.add_argument("input", metavar="INPUT", help="image folder (any depth), one image, a .zip, "
                                                  "or a dataset spec")
    p.add_argument("--threshold", default="saved",
                   help="saved (default: the one saved on the Anomaly page), a value, or a "
                        "strategy re-fitted on the validation split: f1, youden, mean, tnr=0.95, "
                        "percentile=99, gmm, fpr=0.05; a classifier: saved, argmax or a "
                        "probability of its second class (2 classes)")
    p.add_argument("--score", help="anomaly score (default: the one whose threshold was saved "
                                   "last, else mse)")
    p.add_argument("--csv", help="write one row per image here")
    p.add_argument("--json", action="store_true")
    p.add_argument("--batch-size", type=int, default=1024, help="images read and scored at once")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("export", help="write a run as a bundle that predicts without the run "
                                      "folder: model, manifest, checksums")
    p.add_argument("run")
    p.add_argument("out_dir", metavar="OUT_DIR", help="a new (or empty) folder")
    p.add_argument("--format", choices=["torchscript", "onnx"], default="torchscript",
                   help="onnx needs the onnx extra: pip install smalldl[onnx]")
    p.set_defaults(func=_cmd_export)
    return parser


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


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
        args = build_parser(prog).parse_args(argv)
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
