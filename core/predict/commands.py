"""`python -m core predict` and `python -m core export`: what they print, and a progress bar when
stderr is a terminal. Files left out are listed on stderr, one line each, and never stop the rest."""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from core.console import faithful, printable
from core.errors import UserError
from core.io.atomic import load_json_object, write_target, write_text
from core.predict.apply import Progress, predict_images
from core.predict.bundle import is_bundle, open_bundle
from core.predict.conformal import check_fdr, fdr_sentence
from core.predict.detector import Detector, RunDetector
from core.predict.inputs import open_input
from core.predict.model_files import ModelFormat
from core.predict.result import PredictResult
from core.predict.thresholds import resolve_threshold
from core.settings import Settings

MAX_BATCH = 65536


def open_detector(text: str, settings: Settings, workdir: Path, device: str) -> Detector:
    """A bundle folder or .zip, else a run id (or a shipped run's name) in the store."""
    path = Path(text).expanduser()
    if is_bundle(path):
        return open_bundle(path, workdir, device)
    if path.is_dir():
        raise UserError(f"{text} is a folder but not a bundle (it has no manifest.json)")
    from core.runs.store import open_store

    return RunDetector(open_store(settings).get(text), settings, device)


def terminal_progress(stream=None) -> Progress | None:
    """A one-line bar redrawn in place, or None when the stream is not a terminal (a log)."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return None

    def show(fraction: float, text: str) -> None:
        bar = "#" * int(30 * fraction)
        stream.write(f"\r[{bar:<30}] {text}" + ("\n" if fraction >= 1 else ""))
        stream.flush()

    return show


def predict_command(args) -> int:
    from core.training.loop import resolve_device

    if not 1 <= args.batch_size <= MAX_BATCH:
        raise UserError(f"--batch-size must be between 1 and {MAX_BATCH}")
    if getattr(args, "fdr", None) is not None:
        check_fdr(args.fdr)
    if args.csv:
        write_target(Path(args.csv))  # a folder or a link out of its folder: said before the work
    settings = Settings.from_env()
    device = str(resolve_device(args.device))
    with tempfile.TemporaryDirectory(prefix="predict-") as work:
        detector = open_detector(args.source, settings, Path(work) / "bundle", device)
        score = args.score or (detector.default_score() if detector.kind.has_decoder else None)
        threshold = resolve_threshold(detector, score, args.threshold)
        images = open_input(args.input, settings, Path(work) / "input", detector.recipe)
        result = predict_images(detector, images, threshold, args.batch_size, terminal_progress())
    if getattr(args, "fdr", None) is not None:
        if not result.kind.has_decoder:
            raise UserError("--fdr flags anomalies: it needs an autoencoder or VAE, not a classifier")
    for row, reason in result.errors.items():
        print(printable(f"left out {result.names[row]}: {reason}"), file=sys.stderr)
    result.require_some()
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if getattr(args, "fdr", None) is not None:
        result = result.with_fdr(args.fdr)
    frame = result.frame()
    if args.csv:  # names as faithful, encodable text (a byte that was not UTF-8 as \xff)
        try:
            write_text(Path(args.csv), texts(frame, faithful).to_csv(index=False))
        except OSError as exc:
            raise UserError(f"cannot write --csv {args.csv}: {exc.strerror or exc}") from None
    if args.json:  # the same faithful names; JSON escapes newlines and control characters itself
        rows = json.loads(texts(frame, faithful).to_json(orient="records"))  # NaN as null
        print(json.dumps(texts({**result.summary(), "rows": rows}, faithful), indent=1,
                         ensure_ascii=False))
        return 0
    if not args.csv:  # the terminal: no raw newlines or escape sequences from file names
        print(texts(frame.drop(columns="error").iloc[result.scored], printable).to_string(index=False))
    print(printable(summary_line(result)))
    return 0


def texts(value, fix):
    """value with fix applied to every string in it (a DataFrame's cells and column names, or
    nested dicts and lists), so file and class names print and encode whatever they hold."""
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        out = value.rename(columns=lambda c: fix(c) if isinstance(c, str) else c)
        for column in out.columns:
            if not pd.api.types.is_numeric_dtype(out[column]):
                out[column] = out[column].map(lambda v: fix(v) if isinstance(v, str) else v)
        return out
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, dict):
        return {texts(k, fix): texts(v, fix) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [texts(v, fix) for v in value]
    return value


def summary_line(result: PredictResult) -> str:
    """What was decided, at which threshold, from where; and how many files were left out."""
    t = result.threshold
    left = f"; {len(result.errors):,} file(s) left out" if result.errors else ""
    n = len(result.scored)
    if result.kind.has_decoder:
        k = result.flagged()
        if result.fdr is not None:
            return (f"{n:,} images: {k:,} flagged ({k / n:.1%}) by {t.score} p-values; "
                    f"{fdr_sentence(result.fdr, k)}{left}")
        return (f"{n:,} images: {k:,} anomalies ({k / n:.1%}) at {t.score} >= {t.value:.6g} "
                f"[{t.source}: {t.detail}]{left}")
    counts = ", ".join(f"{name} {c:,}" for name, c in result.counts().items())
    return f"{n:,} images: {counts} [{t.source}: {t.detail}]{left}"


def export_command(args) -> int:
    from core.predict.export import export_bundle
    from core.runs.store import open_store

    settings = Settings.from_env()
    run = open_store(settings).get(args.run)
    try:
        out = export_bundle(run, Path(args.out_dir), settings, ModelFormat(args.format))
    except OSError as exc:  # the folder could not be made or written after all
        raise UserError(f"cannot export to {args.out_dir}: {exc.strerror or exc}") from None
    manifest = load_json_object(out / "manifest.json")
    saved = ", ".join(f"{k} >= {v['threshold']:.6g} ({v['strategy']})"
                      for k, v in manifest["thresholds"].items()) or "none saved"
    print(f"bundle of {run.name()} written to {out}: {args.format} model, "
          f"{len(manifest['scores'])} score(s), thresholds: {saved}")
    return 0
