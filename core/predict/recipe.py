"""How a run turns an image into its model's input: the dataset spec's colour mode and size, its
preprocessing steps, and the (C, H, W) shape the model takes. New images go through exactly this,
and an exported bundle records it in its manifest."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.preprocess import apply_steps, parse_step
from core.data.spec import DatasetSpec
from core.errors import UserError

GRAY_FILE_MODES = ("L", "LA", "1", "I", "I;16", "F")  # PIL modes that decode to one channel
CHANNEL_STEPS = ("grayscale", "rgb")
MAX_SIDE = 4096  # of a model input, when a manifest says what the model takes


@dataclass(frozen=True)
class Recipe:
    """The preprocessing a run was trained with, and the input shape of its model."""

    in_shape: tuple[int, int, int]
    mode: str | None = None  # the spec's: "L", "RGB", or None (as the files are)
    size: int | None = None  # the spec's square side, or None (keep)
    steps: tuple[str, ...] = ()

    @classmethod
    def for_spec(cls, spec: DatasetSpec | str, in_shape) -> Recipe:
        spec = DatasetSpec.from_text(spec) if isinstance(spec, str) else spec
        return cls(tuple(int(v) for v in in_shape), spec.mode, spec.size, tuple(spec.steps))

    @property
    def resizes(self) -> bool:
        """Whether images of any size are brought to the model's size (else they must match)."""
        return self.size is not None or any(parse_step(s)[0] == "resize" for s in self.steps)

    def decode_mode(self, file_mode: str) -> str:
        """The mode a file is decoded to: the spec's; else the file's own (gray or colour) when a
        step sets the channels; else what the model takes."""
        if self.mode:
            return self.mode
        if any(parse_step(s)[0] in CHANNEL_STEPS for s in self.steps):
            return "L" if file_mode in GRAY_FILE_MODES else "RGB"
        return "L" if self.in_shape[0] == 1 else "RGB"

    def size_problem(self, height: int, width: int) -> str | None:
        """Why an image of this size cannot be used as it is, or None."""
        _, h, w = self.in_shape
        if self.resizes or (height, width) == (h, w):
            return None
        return (f"is {width}x{height}; the run was trained on {w}x{h} images and its preprocessing "
                "does not resize (no size= in its dataset spec, no resize step)")

    def prepare(self, raw: list[np.ndarray]) -> tuple[np.ndarray, list[int], dict[int, str]]:
        """(model-ready uint8 (B, C, H, W), positions in raw they came from, reasons for the rest).

        Steps run on each group of equally sized images, so a folder of mixed sizes works when
        the run resizes; an image that does not end up in the model's shape is refused."""
        reasons: dict[int, str] = {}
        groups: dict[tuple, list[int]] = {}
        for i, image in enumerate(raw):
            problem = self.size_problem(*image.shape[1:])
            if problem:
                reasons[i] = problem
            else:
                groups.setdefault(image.shape, []).append(i)
        parts, kept = [], []
        for members in groups.values():
            out = np.stack([raw[i] for i in members])
            out = apply_steps(out, self.steps) if self.steps else out
            if tuple(out.shape[1:]) != self.in_shape:
                shape = "x".join(map(str, out.shape[1:]))
                wanted = "x".join(map(str, self.in_shape))
                reasons.update({i: f"is {shape} (C x H x W) after the run's preprocessing; the "
                                   f"model takes {wanted}" for i in members})
                continue
            parts.append(out)
            kept += members
        images = np.concatenate(parts) if parts else np.empty((0, *self.in_shape), np.uint8)
        return images, kept, reasons

    def describe(self) -> str:
        c, h, w = self.in_shape
        parts = [f"{'grayscale' if c == 1 else f'{c}-channel'} {w}x{h}"]
        if self.size:
            parts.append(f"resized to {self.size}x{self.size}")
        if self.steps:
            parts.append("then " + ", ".join(self.steps))
        return ", ".join(parts)

    def to_json(self) -> dict:
        return {"in_shape": list(self.in_shape), "mode": self.mode, "size": self.size,
                "steps": list(self.steps)}

    @classmethod
    def from_json(cls, d) -> Recipe:
        """A recipe from a manifest, every field checked (UserError says which is wrong)."""
        if not isinstance(d, dict):
            raise UserError("the preprocessing must be a JSON object")
        shape, steps = d.get("in_shape"), d.get("steps", [])
        if (not isinstance(shape, list) or len(shape) != 3
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in shape)
                or shape[0] not in (1, 3) or not all(1 <= v <= MAX_SIDE for v in shape[1:])):
            raise UserError(f"the preprocessing's in_shape must be [1 or 3, H, W], not {shape!r}")
        if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
            raise UserError("the preprocessing's steps must be a list of step names")
        for step in steps:
            parse_step(step)  # an unknown step or bad argument is a DatasetError (a UserError)
        try:
            spec = DatasetSpec(mode=d.get("mode"), size=d.get("size"))
        except (UserError, TypeError) as exc:
            raise UserError(f"the preprocessing's mode or size is wrong: {exc}") from None
        return cls(tuple(shape), spec.mode, spec.size, tuple(steps))
