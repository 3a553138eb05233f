"""Models for small images: classifiers, autoencoders and a VAE, built by name from the registry."""
from core.models.registry import MODELS, ModelInfo, build_model, count_parameters, model_kind

__all__ = ["MODELS", "ModelInfo", "build_model", "count_parameters", "model_kind"]
