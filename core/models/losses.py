"""Training losses by name, per-image reconstruction errors and class probabilities.

Every loss takes (output, batch): a core.models.output.ModelOutput and a Batch (clean images x,
labels y). Classification losses read output.logits and batch.y, reconstruction losses
output.recon and batch.x, "elbo" also output.mu and output.logvar. A model's own penalty terms
(output.penalties) are added by the training loop, not here.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from core.errors import UserError
from core.models.kinds import Kind
from core.models.output import Batch, ModelOutput

# The first loss of each kind is its default ("auto").
LOSSES_BY_KIND: dict[Kind, tuple[str, ...]] = {
    Kind.CLASSIFIER: ("cross_entropy", "bce"),
    Kind.AUTOENCODER: ("mse", "l1", "mse_l1"),
    Kind.VAE: ("elbo",),
}
LOSS_NAMES = tuple(name for names in LOSSES_BY_KIND.values() for name in names)
BINARY_HEAD_LOSSES = ("bce",)  # these need a model built with binary_head=True: logits (B, 1)
RECONSTRUCTION_ERRORS = ("mse", "l1", "mse_l1")
ELBO_RECONSTRUCTIONS = ("sse", "bce")
# Options each loss accepts, with defaults. mse_l1 weights are the leaks project's (seed 003).
LOSS_OPTIONS: dict[str, dict[str, object]] = {
    "cross_entropy": {"label_smoothing": 0.0},
    "bce": {},
    "mse": {},
    "l1": {},
    "mse_l1": {"mse_weight": 0.8, "l1_weight": 0.2},
    # Bernoulli (bce) reconstruction: with sum-of-squares the KL term wins on 8x8 digits and the
    # VAE collapses to decoding the mean image.
    "elbo": {"beta": 1.0, "reconstruction": "bce"},
}

Loss = Callable[[ModelOutput, Batch], torch.Tensor]


def as_kind(kind: Kind | str) -> Kind:
    try:
        return Kind(kind)
    except ValueError:
        raise UserError(f"unknown model kind {kind!r}; kinds: {', '.join(Kind)}") from None


def check_loss(loss_name: str, kind: Kind | str) -> None:
    """UserError unless `loss_name` exists and suits a model of this kind."""
    kind = as_kind(kind)
    if loss_name not in LOSS_NAMES:
        raise UserError(f"unknown loss {loss_name!r}; losses: {', '.join(LOSS_NAMES)}")
    if loss_name not in LOSSES_BY_KIND[kind]:
        fits = ", ".join(LOSSES_BY_KIND[kind])
        raise UserError(f"loss {loss_name!r} does not fit a {kind} model; use one of: {fits}")


def default_loss(kind: Kind | str, n_classes: int) -> str:
    """cross_entropy for classifiers (needs >= 2 classes), mse for autoencoders, elbo for a VAE."""
    kind = as_kind(kind)
    if kind.predicts_classes and n_classes < 2:
        raise UserError(f"a classifier needs at least 2 classes, the data has {n_classes}")
    return LOSSES_BY_KIND[kind][0]


def make_loss(name: str, **opts) -> Loss:
    """The loss callable for `name`; unknown names or options raise UserError listing valid ones."""
    if name not in LOSS_OPTIONS:
        raise UserError(f"unknown loss {name!r}; losses: {', '.join(LOSS_NAMES)}")
    unknown = sorted(set(opts) - set(LOSS_OPTIONS[name]))
    if unknown:
        valid = ", ".join(LOSS_OPTIONS[name]) or "none"
        raise UserError(f"loss {name!r} has no option {', '.join(unknown)}; its options: {valid}")
    o = {**LOSS_OPTIONS[name], **opts}

    if name == "cross_entropy":
        smoothing = _number(o["label_smoothing"], "label_smoothing", 0.0, 1.0)
        return lambda out, b: F.cross_entropy(out.logits, b.y, label_smoothing=smoothing)
    if name == "bce":
        return lambda out, b: _bce(out.logits, b.y)
    if name == "mse":
        return lambda out, b: F.mse_loss(out.recon, b.x)
    if name == "l1":
        return lambda out, b: F.l1_loss(out.recon, b.x)
    if name == "mse_l1":
        w_mse = _number(o["mse_weight"], "mse_weight", 0.0, None)
        w_l1 = _number(o["l1_weight"], "l1_weight", 0.0, None)
        return lambda out, b: w_mse * F.mse_loss(out.recon, b.x) + w_l1 * F.l1_loss(out.recon, b.x)
    beta = _number(o["beta"], "beta", 0.0, None)
    if o["reconstruction"] not in ELBO_RECONSTRUCTIONS:
        raise UserError(f"elbo reconstruction must be one of {', '.join(ELBO_RECONSTRUCTIONS)}")
    return lambda out, b: elbo(out.recon, out.mu, out.logvar, b.x, beta=beta,
                               reconstruction=str(o["reconstruction"]))


def elbo(
    recon: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, x: torch.Tensor,
    beta: float = 1.0, reconstruction: str = "bce",
) -> torch.Tensor:
    """Negative ELBO: per-image summed reconstruction term + beta * KL(q(z|x) || N(0, I)), batch mean."""
    if reconstruction == "bce":
        rec = F.binary_cross_entropy(recon, x, reduction="none")
    else:
        rec = (recon - x) ** 2
    rec = rec.flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return (rec + beta * kl).mean()


def _bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    if logits.ndim != 2 or logits.shape[1] != 1:
        raise UserError(f"bce needs a binary head with one output, got logits of shape {tuple(logits.shape)}")
    return F.binary_cross_entropy_with_logits(logits[:, 0], targets.to(logits.dtype))


def _number(value, name: str, low: float, high: float | None) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= low
    if not ok or (high is not None and value > high):
        bounds = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise UserError(f"loss option {name} must be a number {bounds}, got {value!r}")
    return float(value)


def per_image_reconstruction_error(
    recon: torch.Tensor, x: torch.Tensor, kind: str = "mse",
    mse_weight: float = 0.8, l1_weight: float = 0.2,
) -> torch.Tensor:
    """(B,) error per image, averaged over its pixels: the anomaly score."""
    if kind not in RECONSTRUCTION_ERRORS:
        valid = ", ".join(RECONSTRUCTION_ERRORS)
        raise UserError(f"unknown reconstruction error {kind!r}; use one of: {valid}")
    diff = (recon - x).flatten(1)
    mse = diff.pow(2).mean(1)
    l1 = diff.abs().mean(1)
    if kind == "mse":
        return mse
    if kind == "l1":
        return l1
    return mse_weight * mse + l1_weight * l1


def class_probabilities(logits: torch.Tensor) -> torch.Tensor:
    """(B, n_classes) probabilities: a (B, 1) binary head becomes [1 - p, p], else softmax."""
    if logits.shape[1] == 1:
        p = torch.sigmoid(logits)
        return torch.cat([1 - p, p], dim=1)
    return torch.softmax(logits, dim=1)
