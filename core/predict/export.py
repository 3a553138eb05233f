"""Export a run as a self-contained bundle that predicts without the run folder or its dataset:

    manifest.json   format version, kind, classes, dataset spec, preprocessing, scores, the saved
                    thresholds with their provenance, and the sha256 of every other file
    model.pt        the model as TorchScript (or encode.onnx and decode.onnx, or forward.onnx:
                    core/predict/model_files.py)
    arrays.npz      plain arrays: latent scores' fitted state, the validation and test scores
                    (strategies are re-fitted on them; new scores are compared with them)

The folder appears whole or not at all; an existing non-empty folder is never written into."""
from __future__ import annotations

import io
import os
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from core.errors import UserError
from core.io.atomic import atomic_dir, write_json
from core.predict.bundle import ARRAYS, FORMAT, FORMAT_VERSION, MANIFEST, sha256
from core.predict.detector import PROBABILITY, RunDetector
from core.predict.model_files import ModelFormat, write_model
from core.runs.store import Run
from core.settings import Settings
from core.training.config import run_config


def export_bundle(run: Run, out_dir: Path, settings: Settings,
                  fmt: ModelFormat = ModelFormat.TORCHSCRIPT) -> Path:
    """Write the bundle into out_dir (new, or an empty folder) and return it."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UserError(f"{out_dir} exists and is not empty; export into a new folder")
    _check_writable(out_dir)
    detector = RunDetector(run, settings)
    arrays, scores = _arrays(detector)
    thresholds = {n: t.to_json() for n in (*scores, PROBABILITY)
                  if (t := detector.saved_threshold(n)) is not None
                  and (n != PROBABILITY or len(detector.classes) == 2)}
    with atomic_dir(out_dir) as tmp:
        model_files = write_model(detector.model, detector.kind, detector.recipe.in_shape, tmp, fmt)
        np.savez(tmp / ARRAYS, **arrays)
        config = run_config(run)
        write_json(tmp / MANIFEST, {
            "format": FORMAT, "format_version": FORMAT_VERSION, "name": detector.name,
            "run": run.id, "exported": datetime.now(UTC).isoformat(timespec="seconds"),
            "kind": str(detector.kind), "model": config.model, "model_format": str(fmt),
            "classes": list(detector.classes), "normal_classes": list(detector.normal_classes),
            "dataset": config.dataset, "preprocessing": detector.recipe.to_json(),
            "loss_params": dict(config.loss_params), "scores": list(scores),
            "score": _default_score(detector, scores), "thresholds": thresholds,
            "model_files": model_files,
            "files": {name: sha256(tmp / name) for name in {*model_files.values(), ARRAYS}}})
    return out_dir


def _check_writable(out_dir: Path) -> None:
    """Refuse, before any work, a folder that cannot be made: under a file, or somewhere this
    user may not write (/proc, a read-only disk)."""
    parent = out_dir.absolute().parent
    while not parent.exists() and parent != parent.parent:
        if parent.is_symlink() or parent.is_file():
            break
        parent = parent.parent
    if not parent.is_dir():
        raise UserError(f"cannot export to {out_dir}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK) or str(parent.resolve()).startswith(("/proc", "/sys")):
        raise UserError(f"cannot export to {out_dir}: folder {parent} is not writable")


def bundle_zip(run: Run, settings: Settings, fmt: ModelFormat = ModelFormat.TORCHSCRIPT) -> bytes:
    """The bundle as one .zip (a folder named after the run inside), for a download."""
    with tempfile.TemporaryDirectory(prefix="bundle-") as tmp:
        folder = export_bundle(run, Path(tmp) / f"{run.id}-bundle", settings, fmt)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.iterdir()):
                zf.write(path, f"{folder.name}/{path.name}")
        return buffer.getvalue()


def _default_score(detector: RunDetector, offered: tuple[str, ...]) -> str | None:
    """What predict on the bundle uses without --score: as on the run, among those offered."""
    if not offered:
        return None
    chosen = detector.default_score()
    return chosen if chosen in offered else ("mse" if "mse" in offered else offered[0])


def _arrays(detector: RunDetector) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """(arrays.npz content, the scores the bundle offers): every reconstruction score, and the
    latent scores whose fitted state is plain arrays."""
    if not detector.kind.has_decoder:
        return {}, ()
    a = detector.anomaly_scores
    arrays: dict[str, np.ndarray] = {}
    offered = []
    for s in detector.fitted_scorer.scores:
        try:
            state = s.state()  # {} for a score with nothing fitted
        except NotImplementedError:
            continue  # this score cannot travel without pickle: the bundle leaves it out
        arrays.update({f"latent.{s.name}.{k}": np.asarray(v) for k, v in state.items()})
        offered.append(s.name)
    for split in ("val", "test"):
        rows = a.part(split)
        arrays[f"{split}.is_anomaly"] = a.is_anomaly[rows]
        arrays.update({f"{split}.{name}": a.scores[name][rows] for name in offered})
    return arrays, tuple(offered)
