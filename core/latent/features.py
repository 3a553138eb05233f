"""Latent codes of a run: the autoencoder/VAE code (the VAE's mean) or a classifier's
penultimate layer, for every image of its dataset, cached on disk per checkpoint and dataset."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.dataset import ImageDataset, load_dataset
from core.models import Kind, model_kind
from core.runs.results import cached_arrays, checkpoint_key
from core.runs.store import Run
from core.settings import Settings
from core.training.config import run_config

MAX_POINTS = 100_000  # projections and drawings beyond this use a stated, seeded sample of it


@dataclass
class Features:
    """Codes for every image of the dataset (all splits), plus class probabilities for classifiers."""

    codes: np.ndarray  # (N, D) float32
    proba: np.ndarray | None  # (N, n_classes) for classifiers
    kind: Kind
    layer: str

    @property
    def n(self) -> int:
        return len(self.codes)


def extract(run: Run, settings: Settings, ds: ImageDataset | None = None) -> Features:
    from core.inference import forward_batches, load_model
    from core.models.losses import class_probabilities

    config = run_config(run)
    ds = ds or load_dataset(config.dataset, settings)
    kind = model_kind(config.model)

    def compute() -> dict[str, np.ndarray]:
        model, _ = load_model(run)

        def codes_and_proba(x):
            codes = model.features(x)
            if not kind.predicts_classes:
                return {"codes": codes}
            return {"codes": codes, "proba": class_probabilities(model.output(codes))}

        return forward_batches(codes_and_proba, ds.images)

    key = {"checkpoint": checkpoint_key(run), "dataset": config.dataset}
    arrays, _ = cached_arrays(run, settings, "features", key, compute)
    return Features(arrays["codes"].astype(np.float32), arrays.get("proba"), kind, kind.feature_layer)


def sample_rows(n: int, max_points: int = MAX_POINTS, seed: int = 0) -> np.ndarray:
    """All rows, or a seeded sorted sample of max_points when there are more."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))
