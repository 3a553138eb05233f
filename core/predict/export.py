"""Export a run as a self-contained bundle that predicts without the run folder or its dataset:

    manifest.json   format version, kind, classes, dataset spec, preprocessing, scores, the saved
                    thresholds with their provenance, and the sha256 of every other file
    model.pt        the model as TorchScript (forward, and encode/decode for autoencoders)
    arrays.npz      plain arrays: latent scores' fitted state, the validation and test scores
                    (strategies are re-fitted on them; new scores are compared with them)

The folder appears whole or not at all; an existing non-empty folder is never written into."""
from __future__ import annotations

import io
import tempfile
import warnings
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from core.anomaly.scores import LatentScore
from core.errors import UserError
from core.models import Kind
from core.predict.bundle import ARRAYS, FORMAT, FORMAT_VERSION, MANIFEST, ModelFormat, sha256
from core.predict.detector import PROBABILITY, RunDetector
from core.runs.atomic import atomic_dir, write_json
from core.runs.store import Run
from core.settings import Settings

TRACE_TOLERANCE = 1e-5  # largest difference allowed between the traced and the eager model


def export_bundle(run: Run, out_dir: Path, settings: Settings,
                  fmt: ModelFormat = ModelFormat.TORCHSCRIPT) -> Path:
    """Write the bundle into out_dir (new, or an empty folder) and return it."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UserError(f"{out_dir} exists and is not empty; export into a new folder")
    detector = RunDetector(run, settings)
    arrays, scores = _arrays(detector)
    thresholds = {n: t.to_json() for n in (*scores, PROBABILITY)
                  if (t := detector.saved_threshold(n)) is not None
                  and (n != PROBABILITY or len(detector.classes) == 2)}
    with atomic_dir(out_dir) as tmp:
        _write_model(detector, tmp / fmt.file)
        np.savez(tmp / ARRAYS, **arrays)
        config = run.config()
        write_json(tmp / MANIFEST, {
            "format": FORMAT, "format_version": FORMAT_VERSION, "name": detector.name,
            "run": run.id, "exported": datetime.now(UTC).isoformat(timespec="seconds"),
            "kind": str(detector.kind), "model": config.model, "model_format": str(fmt),
            "classes": list(detector.classes), "normal_classes": list(detector.normal_classes),
            "dataset": config.dataset, "preprocessing": detector.recipe.to_json(),
            "loss_params": dict(config.loss_params), "scores": list(scores),
            "score": _default_score(detector, scores), "thresholds": thresholds,
            "files": {fmt.file: sha256(tmp / fmt.file), ARRAYS: sha256(tmp / ARRAYS)}})
    return out_dir


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
        if isinstance(s, LatentScore):
            try:
                state = s.state()
            except NotImplementedError:
                continue  # this score cannot travel without pickle: the bundle leaves it out
            arrays.update({f"latent.{s.name}.{k}": np.asarray(v) for k, v in state.items()})
        offered.append(s.name)
    for split in ("val", "test"):
        rows = a.part(split)
        arrays[f"{split}.is_anomaly"] = a.is_anomaly[rows]
        arrays.update({f"{split}.{name}": a.scores[name][rows] for name in offered})
    return arrays, tuple(offered)


def _write_model(detector: RunDetector, path: Path) -> None:
    """The model traced to TorchScript, checked against the eager model on another batch size."""
    import torch

    model, kind, shape = detector.model, detector.kind, detector.recipe.in_shape
    x = torch.rand(2, *shape, generator=torch.Generator().manual_seed(0))
    methods = {"forward": x}
    if kind.has_decoder:
        with torch.no_grad():
            methods.update(encode=x, decode=model.encode(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings on shape checks; jit's deprecation
        with torch.no_grad():
            traced = torch.jit.trace_module(model, methods, check_trace=False)  # checked below
        _check_traced(model, traced, kind, shape)
        torch.jit.save(traced, str(path))


def _check_traced(model, traced, kind: Kind, shape) -> None:
    import torch

    x = torch.rand(3, *shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        pairs = [(model(x), traced(x))]
        if kind.has_decoder:
            pairs.append((model.decode(model.encode(x)), traced.decode(traced.encode(x))))
    for eager, scripted in pairs:
        eager = eager if isinstance(eager, tuple) else (eager,)
        scripted = scripted if isinstance(scripted, tuple) else (scripted,)
        worst = max(float((a - b).abs().max()) for a, b in zip(eager, scripted))
        if worst > TRACE_TOLERANCE:
            raise UserError(f"the traced model differs from the run's by {worst:.2g}; this model "
                            "cannot be exported to TorchScript")
