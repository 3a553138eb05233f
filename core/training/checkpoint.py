"""Checkpoints: weights, optimizer, config, epoch, best metric and RNG state, saved atomically."""
from __future__ import annotations

import functools
import os
from pathlib import Path

import torch

from core.errors import UserError
from core.models import build_model
from core.train_config import TrainConfig


def save(path: Path, state: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # a killed process leaves the previous checkpoint intact


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


def load_model(run, which: str = "best", device: str | torch.device = "cpu"):
    """(model in eval mode, checkpoint dict) for a run; refuses a mismatching checkpoint.

    Memoised on the file's size and mtime: pages ask for the same model on every rerun, and a
    rewritten checkpoint (a run still training) is loaded afresh. Callers must not modify it.
    """
    path = run.checkpoint(which)
    if not path.exists():
        raise UserError(f"no checkpoint at {path}")
    st = path.stat()
    return _load_model_cached(str(path), st.st_size, st.st_mtime_ns, str(device))


@functools.lru_cache(maxsize=8)
def _load_model_cached(path: str, size: int, mtime_ns: int, device: str):
    state = load(Path(path), device)
    return model_from_checkpoint(state, device), state
