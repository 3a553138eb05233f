"""The kinds of model, in one place, with what each can do.

Code asks a kind about a capability (`kind.has_decoder`) rather than comparing names, so a new
kind is one member here plus its losses in core/models/losses.py.
"""
from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    CLASSIFIER = "classifier"
    AUTOENCODER = "autoencoder"
    VAE = "vae"

    @property
    def title(self) -> str:
        return {Kind.CLASSIFIER: "Classifier", Kind.AUTOENCODER: "Autoencoder",
                Kind.VAE: "VAE"}[self]

    @property
    def predicts_classes(self) -> bool:
        """Outputs class logits: evaluated on the Evaluate page, judged by accuracy."""
        return self is Kind.CLASSIFIER

    @property
    def has_decoder(self) -> bool:
        """Reconstructs its input: anomaly scores, reconstructions and generation."""
        return self is not Kind.CLASSIFIER

    @property
    def has_elbo(self) -> bool:
        """Variational: forward returns (reconstruction, mu, logvar) and it has a prior."""
        return self is Kind.VAE

    @property
    def output_fields(self) -> tuple[str, ...]:
        """What a model of this kind's forward returns, in order (core.models.output.ModelOutput
        field names)."""
        return {Kind.CLASSIFIER: ("logits",), Kind.AUTOENCODER: ("recon",),
                Kind.VAE: ("recon", "mu", "logvar")}[self]

    @property
    def coded_methods(self) -> tuple[str, ...]:
        """The methods that give a model's output with its code (what anomaly scoring calls and
        an exported bundle holds): forward when its fields include the code (a VAE's mu), else
        encode then decode; a model without a decoder has forward only."""
        if "mu" in self.output_fields or not self.has_decoder:
            return ("forward",)
        return ("encode", "decode")

    @property
    def monitor(self) -> str:
        """The validation metric that picks the best checkpoint."""
        return "val_acc" if self.predicts_classes else "val_loss"

    @property
    def quality_metric(self) -> str:
        """The second validation number recorded each epoch (accuracy or per-pixel MSE)."""
        return "val_acc" if self.predicts_classes else "val_mse"

    @property
    def feature_layer(self) -> str:
        """What `model.features(x)` returns, in words for the Latent page."""
        return {Kind.CLASSIFIER: "penultimate layer", Kind.AUTOENCODER: "autoencoder code",
                Kind.VAE: "VAE mean code"}[self]

    @classmethod
    def with_decoder(cls) -> tuple[Kind, ...]:
        return tuple(k for k in cls if k.has_decoder)

    @classmethod
    def classifiers(cls) -> tuple[Kind, ...]:
        return tuple(k for k in cls if k.predicts_classes)
