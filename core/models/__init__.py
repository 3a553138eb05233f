"""Models for small images, built by name from one registry.

Offers:
- `Kind`: classifier, autoencoder or VAE, with capability flags (`has_decoder`, ...).
- `MODELS`, `ModelInfo`, `build_model`, `model_kind`, `count_parameters`: the registry.
- `classifiers` (MLP, CNN, the default CNN), `autoencoders` (MLP, conv, VAE), `layers`
  (shared blocks and checks), `losses` (training losses by name, per-image errors).
Add a model: one entry in `registry._ENTRIES` (see CONTRIBUTING.md).
"""
from core.models.kinds import Kind
from core.models.registry import MODELS, ModelInfo, build_model, count_parameters, model_kind

__all__ = ["Kind", "MODELS", "ModelInfo", "build_model", "count_parameters", "model_kind"]
