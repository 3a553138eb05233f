"""Batched input changes applied while training: random shifts (classifiers) and corruption
(denoising autoencoders). Both draw from a generator the trainer seeds, so resume is exact."""
from __future__ import annotations

import torch

from core.errors import UserError

CORRUPTIONS = ("gaussian", "mask")


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by a random whole number of pixels (zeros fill in); a batched op."""
    if max_shift < 1:
        return x
    n, _, h, w = x.shape
    shifts = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator,
                           device=generator.device).to(x.device)
    padded = torch.nn.functional.pad(x, (max_shift, max_shift, max_shift, max_shift))
    rows = (torch.arange(h, device=x.device).view(1, h) + max_shift - shifts[:, :1])  # (n, h)
    cols = (torch.arange(w, device=x.device).view(1, w) + max_shift - shifts[:, 1:])  # (n, w)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    out = padded.permute(0, 2, 3, 1)[batch, rows.view(n, h, 1), cols.view(n, 1, w)]
    return out.permute(0, 3, 1, 2)


def corrupt(
    x: torch.Tensor, kind: str, level: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A noisy copy of x for denoising training; x itself is left untouched.

    "gaussian": add N(0, level^2) noise (level is the std) and clamp to [0, 1].
    "mask": zero each pixel (all its channels) with probability `level`.
    The generator, if given, must live on x's device.
    """
    if kind not in CORRUPTIONS:
        raise UserError(f"unknown corruption {kind!r}; choose one of: {', '.join(CORRUPTIONS)}")
    if isinstance(level, bool) or not isinstance(level, (int, float)) or level < 0:
        raise UserError(f"corruption level must be a number >= 0, got {level!r}")
    if kind == "gaussian":
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (x + level * noise).clamp(0.0, 1.0)
    if level > 1:
        raise UserError(f"mask level is a probability in [0, 1], got {level}")
    batch, _, height, width = x.shape
    keep = torch.rand((batch, 1, height, width), generator=generator, device=x.device) >= level
    return x * keep.to(x.dtype)
