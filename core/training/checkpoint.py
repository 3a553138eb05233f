"""Checkpoints: weights, optimizer, config, epoch, best metric and RNG state, saved atomically."""
from __future__ import annotations

import io
from pathlib import Path

import torch

from core.errors import UserError
from core.io.atomic import atomic_path
from core.models import build_model
from core.training.config import TrainConfig


def save(path: Path, state: dict) -> None:
    buffer = io.BytesIO()  # torch's own file writer aborts the process on a full disk
    torch.save(state, buffer)
    with atomic_path(path) as tmp:  # a killed process leaves the previous checkpoint intact
        tmp.write_bytes(buffer.getbuffer())


def load(path: Path, device: str | torch.device = "cpu") -> dict:
    if not path.exists():
        raise UserError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # truncated file, foreign pickle, ...
        raise UserError(f"{path} is not a readable checkpoint: {exc}") from None


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
