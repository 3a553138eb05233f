"""Models for small images, built by name from one registry.

Offers:
- `Kind`: classifier, autoencoder or VAE, with capability flags (`has_decoder`, ...).
- `MODELS`, `ModelInfo`, `build_model`, `model_kind`, `count_parameters`: the registry.
- `classifiers` (MLP, CNN, the default CNN), `autoencoders` (MLP, conv, VAE), `layers`
  (shared blocks and checks), `losses` (training losses by name, per-image errors).
Add a model: one entry in `registry._ENTRIES` (see CONTRIBUTING.md).
"""
from core.models.kinds import Kind

__all__ = ["Kind", "MODELS", "ModelInfo", "build_model", "count_parameters", "measure_model", "model_kind"]
_FROM_REGISTRY = frozenset(__all__) - {"Kind"}


def __getattr__(name: str):
    """The registry's names, imported on first use: it imports torch (~2.5 s, 650 MB), which
    pages that only need `Kind` (the Data page, through the session model) must not pay."""
    if name in _FROM_REGISTRY:
        from core.models import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'core.models' has no attribute {name!r}")
