"""Anomaly scores for autoencoder and VAE runs, cached per run, normal classes and checkpoint.

Reconstruction scores compare each image with its reconstruction. Latent scores compare each
code with the codes of the *training* normal images (never validation or test ones).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.datasets import ImageDataset, load_dataset
from core.errors import UserError
from core.models import model_kind
from core.run_cache import cached_arrays, checkpoint_key
from core.runs import Run
from core.settings import Settings
from core.splits import AnomalySplit

RECONSTRUCTION_SCORES = {"mse": "reconstruction MSE", "l1": "reconstruction L1",
                         "mse_l1": "0.8 MSE + 0.2 L1 (the leaks project's mix)"}
LATENT_SCORES = {"gmm_nll": "Gaussian-mixture negative log-likelihood of the code",
                 "knn": "mean distance to the 5 nearest normal training codes",
                 "mahalanobis": "Mahalanobis distance of the code to the normal training codes"}
VAE_SCORES = {"neg_elbo": "VAE negative ELBO (reconstruction + beta * KL)"}
BATCH = 512


@dataclass
class AnomalyScores:
    """Per image of val and test: dataset index, split, class, anomaly flag and every score."""

    index: np.ndarray
    split: np.ndarray  # "val" / "test"
    labels: np.ndarray
    is_anomaly: np.ndarray
    scores: dict[str, np.ndarray]
    view: AnomalySplit
    trained_on_normal_only: bool
    from_cache: bool = False

    def part(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.split == split)


def score_names(kind: str) -> dict[str, str]:
    names = {**RECONSTRUCTION_SCORES, **LATENT_SCORES}
    return {**VAE_SCORES, **names} if kind == "vae" else names


def anomaly_view(run: Run, classes, normal: tuple[str, ...] | None) -> tuple[AnomalySplit, bool]:
    """The normal/anomaly split to score with, and whether the run trained on normal images only."""
    config = run.config()
    if model_kind(config.model) == "classifier":
        raise UserError(f"{run.name()} is a classifier; anomaly scores need an autoencoder or VAE run")
    chosen = tuple(normal) if normal else config.normal_classes
    if not chosen:
        raise UserError(f"{run.name()} was trained on every class; choose which classes are normal")
    view = AnomalySplit.choose(classes, normal=chosen)
    trained_on = set(config.normal_classes) if config.normal_classes else set(classes)
    return view, not (trained_on & set(view.anomaly_classes))


def _forward(model, images: np.ndarray, kind: str, beta: float, reconstruction: str) -> dict:
    import torch
    import torch.nn.functional as F

    from core.losses import per_image_reconstruction_error

    out = {k: [] for k in ("mse", "l1", "mse_l1", "code", "neg_elbo")}
    with torch.no_grad():
        for first in range(0, len(images), BATCH):
            x = torch.from_numpy(images[first:first + BATCH]).float() / 255.0
            if kind == "vae":
                recon, mu, logvar = model(x)
                code = mu
                if reconstruction == "bce":
                    rec = F.binary_cross_entropy(recon.clamp(1e-6, 1 - 1e-6), x,
                                                 reduction="none").flatten(1).sum(1)
                else:
                    rec = ((recon - x) ** 2).flatten(1).sum(1)
                kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(1)
                out["neg_elbo"].append((rec + beta * kl).numpy())
            else:
                recon, code = model(x), model.encode(x)
            for name in ("mse", "l1", "mse_l1"):
                out[name].append(per_image_reconstruction_error(recon, x, name).numpy())
            out["code"].append(code.numpy())
    return {k: np.concatenate(v) for k, v in out.items() if v}


def _latent_scores(train_codes: np.ndarray, codes: np.ndarray) -> dict[str, np.ndarray]:
    from sklearn.covariance import LedoitWolf
    from sklearn.mixture import GaussianMixture
    from sklearn.neighbors import NearestNeighbors

    # Shrinkage keeps the covariance invertible when codes (128-d) outnumber what the data pins down.
    cov = LedoitWolf().fit(train_codes)
    gmm = GaussianMixture(min(10, max(1, len(train_codes) // 50)), covariance_type="diag",
                          reg_covar=1e-4, random_state=0).fit(train_codes)
    knn = NearestNeighbors(n_neighbors=min(5, len(train_codes))).fit(train_codes)
    return {"mahalanobis": np.sqrt(cov.mahalanobis(codes)),
            "gmm_nll": -gmm.score_samples(codes),
            "knn": knn.kneighbors(codes)[0].mean(1)}


def compute_scores(run: Run, settings: Settings, normal: tuple[str, ...] | None = None,
                   ds: ImageDataset | None = None) -> AnomalyScores:
    """Every score for the val and test images; computed once per (checkpoint, normal classes)."""
    from core.training.checkpoint import load_model

    config = run.config()
    ds = ds or load_dataset(config.dataset, settings)
    view, normal_only = anomaly_view(run, ds.classes, normal)
    kind = model_kind(config.model)

    def compute() -> dict[str, np.ndarray]:
        model, state = load_model(run)
        loss_params = {"beta": 1.0, "reconstruction": "bce", **config.loss_params}
        keep = view.mask(ds.labels, ds.classes)
        is_anomaly = view.is_anomaly(ds.labels, ds.classes)
        train = ds.indices("train")
        train = train[keep[train] & ~is_anomaly[train]]
        scored = np.concatenate([ds.indices("val"), ds.indices("test")])
        scored = scored[keep[scored]]
        if len(train) < 10:
            raise UserError("fewer than 10 normal training images: too few to fit latent scores")
        args = (kind, float(loss_params["beta"]), loss_params["reconstruction"])
        train_out = _forward(model, ds.images[train], *args)
        out = _forward(model, ds.images[scored], *args)
        scores = {k: v for k, v in out.items() if k != "code"}
        scores.update(_latent_scores(train_out["code"], out["code"]))
        split_names = np.where(np.isin(scored, ds.indices("val")), "val", "test")
        return {"index": scored, "split": split_names, "labels": ds.labels[scored],
                "is_anomaly": is_anomaly[scored],
                **{f"score_{k}": v.astype(np.float64) for k, v in scores.items()}}

    key = {"checkpoint": checkpoint_key(run), "dataset": config.dataset,
           "normal": list(view.normal_classes), "version": 1}
    arrays, hit = cached_arrays(run, settings, "anomaly-scores", key, compute)
    scores = {k[len("score_"):]: v for k, v in arrays.items() if k.startswith("score_")}
    return AnomalyScores(arrays["index"], arrays["split"], arrays["labels"], arrays["is_anomaly"],
                         scores, view, normal_only, hit)


def view_rows(is_anomaly: np.ndarray, view: str, seed: int = 0,
              anomaly_share: float = 0.03) -> np.ndarray:
    """Rows of a test set as is, balanced (equal counts) or imbalanced (3% anomalies, as the
    cracks project's 970/30 set): subsampled with a fixed seed, so every view is repeatable."""
    rng = np.random.default_rng(seed)
    normal, anomalous = np.flatnonzero(~is_anomaly), np.flatnonzero(is_anomaly)
    if view == "as is":
        return np.arange(len(is_anomaly))
    if view == "balanced":
        n = min(len(normal), len(anomalous))
        return np.sort(np.concatenate([rng.permutation(normal)[:n], rng.permutation(anomalous)[:n]]))
    if view == "imbalanced":
        n_anomalies = max(1, int(round(anomaly_share / (1 - anomaly_share) * len(normal))))
        return np.sort(np.concatenate([normal, rng.permutation(anomalous)[:n_anomalies]]))
    raise UserError(f"unknown test view {view!r}: as is, balanced or imbalanced")


def reconstructions(run: Run, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(reconstructions, per-pixel squared error maps) as uint8 arrays, for a gallery."""
    import torch

    from core.training.checkpoint import load_model

    model, _ = load_model(run)
    with torch.no_grad():
        x = torch.from_numpy(images).float() / 255.0
        out = model(x)
        recon = out[0] if isinstance(out, tuple) else out
        err = ((recon - x) ** 2).mean(1, keepdim=True)
        err = err / err.flatten(1).max(1).values.clamp(min=1e-8).view(-1, 1, 1, 1)
    return ((recon * 255).round().byte().numpy(), (err * 255).round().byte().numpy())
