"""Checkpoints: weights, optimizer, config, epoch, best metric and RNG state, saved atomically."""
from __future__ import annotations

import io
from pathlib import Path

import torch

from core.errors import UserError
from core.io.atomic import atomic_path
from core.io.files import open_regular
from core.models import build_model
from core.settings import MAX_CLASSES
from core.training.config import TrainConfig

MAX_CHECKPOINT_BYTES = 2 << 30  # the largest model allowed (64 M parameters) with Adam's state is ~0.8 GB


def save(path: Path, state: dict) -> None:
    buffer = io.BytesIO()  # torch's own file writer aborts the process on a full disk
    torch.save(state, buffer)
    with atomic_path(path) as tmp:  # a killed process leaves the previous checkpoint intact
        tmp.write_bytes(buffer.getbuffer())


def load(path: Path, device: str | torch.device = "cpu") -> dict:
    """The checkpoint's dict, checked to hold what every reader needs (config, weights, input
    shape, classes); a UserError in one line otherwise. Only a regular file of at most
    MAX_CHECKPOINT_BYTES is opened: a FIFO or a link to /dev/zero is refused, never waited on."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise UserError(f"no checkpoint at {path}")
    with open_regular(path, MAX_CHECKPOINT_BYTES, name=str(path)) as f:
        try:
            state = torch.load(f, map_location=device, weights_only=True)
        except Exception as exc:  # truncated file, foreign pickle, ...
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise UserError(f"{path} is not a readable checkpoint: {first}") from None
    problem = _problem(state)
    if problem:
        raise UserError(f"{path} is not a checkpoint of this app: {problem}")
    return state


def _problem(state) -> str | None:
    if not isinstance(state, dict):
        return f"it holds a {type(state).__name__}, not a dict"
    missing = [k for k in ("config", "model", "in_shape", "classes") if k not in state]
    if missing:
        return f"it has no {', '.join(missing)}"
    if not isinstance(state["config"], dict) or not isinstance(state["model"], dict):
        return "its config or weights are not dicts"
    shape = state["in_shape"]
    if not isinstance(shape, (list, tuple)) or len(shape) != 3 \
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 1 << 16 for v in shape):
        return f"its in_shape is not three positive sizes: {str(shape)[:60]}"
    classes = state["classes"]
    if not isinstance(classes, (list, tuple)) or not 1 <= len(classes) <= MAX_CLASSES:
        return f"its classes are not a list of 1 to {MAX_CLASSES} names"
    return None


def model_from_checkpoint(state: dict, device: str | torch.device = "cpu") -> torch.nn.Module:
    """Rebuild the model the checkpoint's config names and load its weights, strictly."""
    config = TrainConfig.from_dict(state["config"])
    model = build_model(config.model, tuple(state["in_shape"]), len(state["classes"]),
                        config.model_params, binary_head=config.loss == "bce")
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "shapes differ"
        raise UserError(f"the checkpoint does not match model {config.model!r}: {first}") from None
    return model.to(device).eval()
