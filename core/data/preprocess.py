"""Named preprocessing steps applied to whole uint8 (N, C, H, W) arrays.

A step is text so it can live in a dataset spec: "name" or "name:arg[:arg]".
    grayscale            RGB -> one channel (ITU-R 601 luma, as PIL does)
    rgb                  one channel -> three (for models that want colour input)
    resize:32            square resize, antialiased bilinear
    blur:1.0             Gaussian blur with this sigma (kernel 2*ceil(3*sigma)+1)
    adaptive_threshold:11:2   pixel -> 255 if above the mean of its 11x11 block minus 2
                         (OpenCV's ADAPTIVE_THRESH_MEAN_C, the cracks recipe), else 0
    invert               255 - pixel
    normalize            per-image min-max stretch to the full 0..255 range
Work is done in chunks with torch so 60,000 images take well under a second per step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from core.errors import DatasetError

CRACKS_RECIPE = ("grayscale", "resize:32", "blur:1.0", "adaptive_threshold:11:2")
_CHUNK = 4096
MAX_STEPS = 20
MAX_BLOCK = 255


@dataclass(frozen=True)
class StepInfo:
    name: str
    args: tuple[float, ...]  # defaults
    help: str


STEPS = {
    "grayscale": StepInfo("grayscale", (), "RGB to one luminance channel"),
    "rgb": StepInfo("rgb", (), "repeat one channel to three"),
    "resize": StepInfo("resize", (32,), "square resize to N pixels (antialiased)"),
    "blur": StepInfo("blur", (1.0,), "Gaussian blur with sigma"),
    "adaptive_threshold": StepInfo("adaptive_threshold", (11, 2),
                                   "binarise against the local mean (block, C)"),
    "invert": StepInfo("invert", (), "255 - pixel"),
    "normalize": StepInfo("normalize", (), "stretch each image to the full 0..255 range"),
}


def parse_step(text: str) -> tuple[str, tuple[float, ...]]:
    name, *raw_args = text.strip().split(":")
    if name not in STEPS:
        raise DatasetError(f"unknown preprocessing step {name!r}; known: {', '.join(STEPS)}")
    defaults = STEPS[name].args
    if len(raw_args) > len(defaults):
        raise DatasetError(f"step {name!r} takes at most {len(defaults)} argument(s)")
    try:
        args = tuple(float(a) for a in raw_args) + defaults[len(raw_args):]
    except ValueError:
        raise DatasetError(f"step {text!r}: arguments must be numbers") from None
    _validate(name, args)
    return name, args


def _validate(name: str, args: tuple[float, ...]) -> None:
    if not all(math.isfinite(a) for a in args):
        raise DatasetError(f"step {name!r} takes finite numbers, not {', '.join(map(str, args))}")
    if name == "resize" and not 4 <= args[0] <= 512:
        raise DatasetError("resize takes a size between 4 and 512")
    if name == "blur" and not 0 < args[0] <= 10:
        raise DatasetError("blur takes a sigma in (0, 10]")
    if name == "adaptive_threshold" and (not 3 <= args[0] <= MAX_BLOCK or args[0] % 2 != 1):
        raise DatasetError(f"adaptive_threshold takes an odd block size from 3 to {MAX_BLOCK}")
    if name == "adaptive_threshold" and not -255 <= args[1] <= 255:
        raise DatasetError("adaptive_threshold takes an offset C between -255 and 255")


def apply_steps(images: np.ndarray, steps: tuple[str, ...] | list[str]) -> np.ndarray:
    """Run the steps in order; returns a new uint8 (N, C, H, W) array."""
    if len(steps) > MAX_STEPS:
        raise DatasetError(f"{len(steps)} preprocessing steps; at most {MAX_STEPS} are allowed")
    parsed = [parse_step(s) for s in steps]
    for name, args in parsed:
        images = _apply_chunked(_OPS[name], images, args)
    return images


def blanked_warning(before: np.ndarray, after: np.ndarray, steps) -> str | None:
    """A warning when the steps turned images that had contrast into all 0 or all 255."""
    if len(before) == 0 or len(before) != len(after):
        return None
    had_contrast = _flat(before).min(1) != _flat(before).max(1)
    lo, hi = _flat(after).min(1), _flat(after).max(1)
    blank = had_contrast & (lo == hi) & ((lo == 0) | (lo == 255))
    if not blank.any():
        return None
    black, white = int((blank & (lo == 0)).sum()), int((blank & (lo == 255)).sum())
    parts = [f"{n:,} entirely {colour}" for n, colour in ((black, "black (0)"),
                                                            (white, "white (255)")) if n]
    return (f"the steps {', '.join(steps)} turn {' and '.join(parts)} of {len(after):,} images; "
            "check the step settings")


def _flat(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1)


def stages(images: np.ndarray, steps: tuple[str, ...] | list[str]) -> list[tuple[str, np.ndarray]]:
    """The images after each step, for a before/after preview: [("original", x), (step, x1), ...]."""
    out = [("original", images)]
    for step in steps:
        images = apply_steps(images, [step])
        out.append((step, images))
    return out


def _apply_chunked(op: Callable, images: np.ndarray, args) -> np.ndarray:
    import torch

    chunks = []
    for start in range(0, len(images), _CHUNK):
        x = torch.from_numpy(np.ascontiguousarray(images[start:start + _CHUNK])).float()
        y = op(x, *args)
        chunks.append(y.round().clamp(0, 255).to(torch.uint8).numpy())
    if not chunks:
        return images
    return np.concatenate(chunks)


def _grayscale(x):
    if x.shape[1] == 1:
        return x
    weights = x.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (x[:, :3] * weights).sum(1, keepdim=True)


def _rgb(x):
    return x if x.shape[1] == 3 else x[:, :1].repeat(1, 3, 1, 1)


def _resize(x, size):
    import torch.nn.functional as F

    size = int(size)
    if x.shape[-2:] == (size, size):
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def _blur(x, sigma):
    from torchvision.transforms.functional import gaussian_blur

    kernel = 2 * math.ceil(3 * sigma) + 1
    kernel = min(kernel, 2 * (min(x.shape[-2:]) // 2) - 1)  # reflect padding needs kernel < side
    return gaussian_blur(x, [kernel, kernel], [sigma, sigma]) if kernel >= 3 else x


def _adaptive_threshold(x, block, c):
    import torch.nn.functional as F

    block = int(block)
    pad = block // 2
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    local_mean = F.avg_pool2d(padded, block, stride=1)
    return (x > local_mean - c).float() * 255.0


def _invert(x):
    return 255.0 - x


def _normalize(x):
    flat = x.flatten(1)
    lo = flat.min(1).values.view(-1, 1, 1, 1)
    hi = flat.max(1).values.view(-1, 1, 1, 1)
    return (x - lo) * 255.0 / (hi - lo).clamp(min=1.0)


_OPS = {"grayscale": _grayscale, "rgb": _rgb, "resize": _resize, "blur": _blur,
        "adaptive_threshold": _adaptive_threshold, "invert": _invert, "normalize": _normalize}
