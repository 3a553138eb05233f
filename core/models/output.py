"""The model contract for training: a model's output is a `ModelOutput`, a loss takes
`(output, batch)`.

A model's `forward` keeps returning plain tensors (what inference, TorchScript and ONNX export
and the shipped checkpoints rely on): logits, a reconstruction, or (reconstruction, mu, logvar);
its kind names those fields (`Kind.output_fields`) and `typed` wraps them. A model with more to
say during training, such as its own penalty term, defines `training_output(x) -> ModelOutput`
and the loop adds every entry of `penalties` to the loss: no edit anywhere else.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import torch
from torch import nn

from core.models.kinds import Kind


@dataclass
class ModelOutput:
    """What a model returns for a batch; fields it has no use for stay None."""

    logits: torch.Tensor | None = None  # (B, n_classes), or (B, 1) for a binary head
    recon: torch.Tensor | None = None  # (B, C, H, W) in [0, 1]
    mu: torch.Tensor | None = None  # a VAE's posterior mean and log-variance
    logvar: torch.Tensor | None = None
    code: torch.Tensor | None = None  # (B, code_dim), when the model gives it
    penalties: dict[str, torch.Tensor] = field(default_factory=dict)  # scalars added to the loss

    def tensors(self) -> list[torch.Tensor]:
        out = [getattr(self, f.name) for f in fields(self) if f.name != "penalties"]
        return [t for t in out if t is not None] + list(self.penalties.values())

    def finite(self) -> bool:
        return all(bool(torch.isfinite(t).all()) for t in self.tensors())

    def penalty(self) -> torch.Tensor | float:
        """The sum of the penalty terms (0.0 without any)."""
        return sum(self.penalties.values(), 0.0)


@dataclass
class Batch:
    """The clean images (the reconstruction target; the model may have seen them corrupted)
    and their labels."""

    x: torch.Tensor
    y: torch.Tensor


def typed(raw, kind: Kind | str) -> ModelOutput:
    """A model's plain forward result as a ModelOutput, by the fields its kind names."""
    names = Kind(kind).output_fields
    values = raw if isinstance(raw, (tuple, list)) else (raw,)
    if len(values) != len(names):
        raise ValueError(f"a {kind} model returns {', '.join(names)}; got {len(values)} tensor(s)")
    out = ModelOutput(**dict(zip(names, values)))
    if out.code is None and out.mu is not None:
        out.code = out.mu
    return out


def coded(model, x: torch.Tensor, kind: Kind | str) -> ModelOutput:
    """The output of a model in eval mode with its code, through the methods its kind names
    (`Kind.coded_methods`): forward where that gives the code, else decode(encode(x)). The model
    may be an exported bundle's (TorchScript or ONNX), which has exactly those methods."""
    kind = Kind(kind)
    if kind.coded_methods == ("forward",):
        return typed(model(x), kind)
    code = model.encode(x)
    return ModelOutput(recon=model.decode(code), code=code)


class TypedModel(nn.Module):
    """The model seen through the training contract: forward(x) -> ModelOutput. It owns no
    weights of its own (the wrapped model's state_dict is what checkpoints hold)."""

    def __init__(self, model: nn.Module, kind: Kind | str):
        super().__init__()
        self.model = model
        self.kind = Kind(kind)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        own = getattr(self.model, "training_output", None)
        return own(x) if own is not None else typed(self.model(x), self.kind)
