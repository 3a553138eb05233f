"""Load a run's model, and the one batched forward pass every reader of a model shares.

Evaluation (class probabilities), anomaly scores, latent codes, reconstructions and generation
all call `forward_batches`: uint8 images are scaled to [0, 1] per batch (so a whole dataset is
never held as floats), gradients are off, and outputs come back as numpy arrays.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from core.errors import UserError

BATCH = 1024
Progress = Callable[[float, str], None]


def load_model(run, which: str = "best", device: str | torch.device = "cpu"):
    """(model in eval mode, checkpoint dict) for a run; refuses a mismatching checkpoint.

    Memoised on the file's size and mtime: pages ask for the same model on every rerun, and a
    rewritten checkpoint (a run still training) is loaded afresh. Callers must not modify it.
    """
    path = run.checkpoint(which)
    if not path.exists():
        raise UserError(f"{run.name()} has no {which} checkpoint yet ({path.name})")
    st = path.stat()
    return _load_model_cached(str(path), st.st_size, st.st_mtime_ns, str(device))


@functools.lru_cache(maxsize=8)
def _load_model_cached(path: str, size: int, mtime_ns: int, device: str):
    from core.training.checkpoint import load, model_from_checkpoint

    state = load(Path(path), device)
    return model_from_checkpoint(state, device), state


def forward_batches(fn: Callable[[torch.Tensor], dict[str, torch.Tensor]], inputs: np.ndarray,
                    batch_size: int = BATCH, device: str | torch.device = "cpu",
                    progress: Progress | None = None) -> dict[str, np.ndarray]:
    """Apply fn to inputs in batches and concatenate each named output.

    uint8 inputs are images, scaled to [0, 1]; float inputs (latent codes) are passed as they are.
    """
    chunks: dict[str, list[np.ndarray]] = {}
    n = len(inputs)
    with torch.no_grad():
        for first in range(0, n, batch_size):
            x = torch.from_numpy(np.ascontiguousarray(inputs[first:first + batch_size]))
            x = x.to(device).float()
            if inputs.dtype == np.uint8:
                x = x.div_(255.0)
            for name, value in fn(x).items():
                value = value.detach()
                value = value.float() if value.is_floating_point() else value  # uint8 stays uint8
                chunks.setdefault(name, []).append(value.cpu().numpy())
            if progress is not None:
                progress(min(first + batch_size, n) / n, f"{min(first + batch_size, n):,}/{n:,}")
    return {name: np.concatenate(parts) for name, parts in chunks.items()}


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[0, 1] floats (a decoder's output) as uint8 pixels."""
    return (np.clip(images, 0.0, 1.0) * 255).round().astype(np.uint8)
