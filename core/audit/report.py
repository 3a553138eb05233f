"""The whole audit of a dataset + config: cross-fitting, cleanlab ranking, duplicates, outliers.

The result is one JSON-ready dict, cached in `<workspace>/audit/<key>/report.json` where the
key names the data (pixels, labels, splits) and the training settings, so a second audit of
the same thing is read back at once.
"""
from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audit.crossfit import CrossFit, cache_key, check_auditable, cross_fit, from_codes
from core.audit.duplicates import find_duplicates, outliers
from core.audit.issues import label_issues
from core.data.dataset import ImageDataset, load_dataset
from core.data.spec import DatasetSpec
from core.errors import UserError
from core.io.atomic import read_json, write_json
from core.models import model_kind
from core.runs.results import checkpoint_key
from core.runs.store import open_store
from core.settings import Settings
from core.training.config import TrainConfig, run_config

MAX_LISTED_ISSUES = 5000
MAX_OUTLIERS = 100
MAX_EPOCHS = 10  # a run's own epochs are capped here unless --epochs says otherwise


@dataclass(frozen=True)
class AuditOptions:
    folds: int = 3
    epochs: int | None = None  # None: the config's own, at most MAX_EPOCHS
    sample: int | None = None  # audit a seeded sample of this many training images
    max_minutes: float = 30.0
    model: str | None = None  # a spec's classifier (default: TrainConfig's); a run keeps its own
    model_params: tuple[tuple[str, object], ...] = ()


def audit_dir(settings: Settings) -> Path:
    return settings.workspace / "audit"


def resolve_target(target: str, settings: Settings) -> tuple[TrainConfig, str | None]:
    """(config, run id): a run's own config, or the default classifier on a dataset spec."""
    run = open_store(settings).find(target.strip())
    if run is not None:
        return run_config(run), run.id
    try:
        spec = DatasetSpec.from_text(target)
    except UserError as exc:
        raise UserError(f"{target[:100]!r} is neither a run nor a dataset spec ({exc})") from None
    return TrainConfig(dataset=spec.to_text()), None


def audited_rows(ds: ImageDataset, sample: int | None, seed: int) -> np.ndarray:
    rows = ds.indices("train")
    if sample is not None:
        if sample < 1:
            raise UserError(f"--sample must be at least 1, not {sample}")
        if sample < len(rows):
            rows = np.sort(np.random.default_rng(seed).choice(rows, sample, replace=False))
    return rows


def run_audit(target: str, settings: Settings, options: AuditOptions = AuditOptions(),
              progress=None, should_stop=None) -> dict:
    config, run_id = resolve_target(target, settings)
    epochs = options.epochs or min(config.epochs, MAX_EPOCHS)
    changes = {"epochs": epochs, "patience": 0}
    if options.model and run_id is None:
        changes.update(model=options.model, model_params=dict(options.model_params))
    config = TrainConfig.from_dict({**config.to_dict(), **changes})
    ds = load_dataset(config.dataset, settings)
    rows = audited_rows(ds, options.sample, config.seed)
    codes_of = None  # an autoencoder run: its codes stand in for a classifier's probabilities
    if run_id is not None and not model_kind(config.model).predicts_classes:
        codes_of = open_store(settings).get(run_id)
    check_auditable(ds, config, options.folds, rows, codes=codes_of is not None)
    key = cache_key(ds, config, options.folds, rows,
                    checkpoint_key(codes_of) if codes_of is not None else "")
    folder = audit_dir(settings) / key
    cached = read_json(folder / "report.json")
    if cached and cached.get("key") == key:
        return {**cached, "from_cache": True, "target": target, "run": run_id}
    if codes_of is not None:
        from core.latent.features import extract

        fit = from_codes(extract(codes_of, settings, ds).codes, ds, rows, options.folds, config.seed,
                         progress)
    else:
        fit = cross_fit(ds, config, options.folds, rows, progress, should_stop,
                        max_seconds=options.max_minutes * 60)
    report = _audit(ds, config, options, fit)
    report.update(key=key, target=target, run=run_id, from_cache=False)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "report.json", report)
    return report


def job_file(settings: Settings, target: str, options: AuditOptions) -> Path:
    """The status file of the background audit of target with options (one per pair)."""
    name = hashlib.sha256(repr((target.strip(), options)).encode()).hexdigest()[:16]
    return audit_dir(settings) / "jobs" / f"{name}.json"


def audit_args(target: str, options: AuditOptions) -> list[str]:
    """The `python -m core audit` arguments for target and options (what a user could type)."""
    args = ["audit", target.strip(), "--folds", str(options.folds),
            "--max-minutes", str(options.max_minutes)]
    if options.epochs:
        args += ["--epochs", str(options.epochs)]
    if options.sample:
        args += ["--sample", str(options.sample)]
    if options.model:
        args += ["--model", options.model]
    return args


def start_background(settings: Settings, target: str, options: AuditOptions) -> Path:
    from core.runs.jobs import core_command, start_job

    path = job_file(settings, target, options)
    path.parent.mkdir(parents=True, exist_ok=True)
    start_job(path, core_command(*audit_args(target, options)), settings)
    return path


def finished_report(settings: Settings, target: str, options: AuditOptions) -> dict | None:
    """The report of the background audit of target with options once it is done, else None."""
    from core.runs.jobs import job_status
    from core.runs.status import JobState

    status = job_status(job_file(settings, target, options)) or {}
    key = status.get("key")
    if status.get("state") != JobState.DONE or not isinstance(key, str) or not key.isalnum():
        return None
    return read_json(audit_dir(settings) / key / "report.json")


def _threads() -> int:
    """This process's share of the cores (the CLI's ThreadShare sets torch's count to it)."""
    import torch

    return max(1, torch.get_num_threads())


def _audit(ds: ImageDataset, config: TrainConfig, options: AuditOptions, fit: CrossFit) -> dict:
    rows = fit.rows
    t = time.perf_counter()
    given = ds.labels[rows]
    issues = label_issues(given, fit.probs)
    scoring_s = time.perf_counter() - t
    t = time.perf_counter()
    threads = _threads()
    dup = find_duplicates(ds.images, ds.split, fit.features, n_jobs=threads)
    duplicates_s = time.perf_counter() - t
    t = time.perf_counter()
    unusual = outliers(fit.features, rows, n_jobs=threads)
    outliers_s = time.perf_counter() - t
    names = list(ds.classes)
    # indices are rows of the dataset without its decisions file: what a decisions file names
    origin = ds.decisions.origin if ds.decisions is not None else np.arange(len(ds.labels))
    listed = min(len(rows), MAX_LISTED_ISSUES,
                 max(int(issues.flagged.sum()), math.ceil(0.05 * len(rows)), 50))
    files = ds.files  # a folder's file per image (None for array sources)
    file_of = (lambda row: files[row]) if files is not None else (lambda row: None)
    label_rows = [{"index": int(origin[rows[i]]), "file": file_of(rows[i]), "given": names[given[i]],
                   "suggested": names[issues.suggested[i]], "score": float(issues.score[i]),
                   "issue": bool(issues.flagged[i])} for i in issues.order[:listed]]
    top = np.argsort(-unusual, kind="stable")[:MAX_OUTLIERS]
    return {
        "dataset": config.dataset, "config": config.to_dict(), "folds": options.folds,
        "probabilities": "cross-fitted trainings" if model_kind(config.model).predicts_classes
        else "logistic regression on the run's codes",
        "epochs": config.epochs, "classes": names, "audited": int(len(rows)),
        "of_train": int(len(ds.indices("train"))), "sampled": len(rows) < len(ds.indices("train")),
        "n_label_issues": int(issues.flagged.sum()), "leaks": dup.leaks,
        "label_issues": label_rows, "duplicates": [{**d, "a": int(origin[d["a"]]), "b": int(origin[d["b"]]),
                        "file_a": file_of(d["a"]), "file_b": file_of(d["b"])} for d in dup.rows(ds.split)],
        "outliers": [{"index": int(origin[rows[i]]), "label": names[given[i]], "score": float(unusual[i])}
                     for i in top],
        "seconds": {"cross_fitting": fit.seconds, "scoring": scoring_s, "duplicates": duplicates_s,
                    "outliers": outliers_s, "one_training_estimate": fit.one_training_s},
    }
