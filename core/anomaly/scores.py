"""Anomaly scores for autoencoder and VAE runs: higher means more anomalous.

Each score is one class. Reconstruction scores compare an image with its reconstruction inside
the one batched forward pass; latent scores compare its code with the codes of the *training*
normal images (never validation or test ones). `compute_scores` caches every score of the val
and test images per (checkpoint, dataset, normal classes); `Scorer` scores any other images.
A fitted latent score gives its state as plain arrays (`state`/`from_state`), so an exported
bundle carries it without pickle.
Add a score: one file `core/anomaly/score_<name>.py` with a subclass of `ReconstructionScore` or
`LatentScore` that has a `name` (CONTRIBUTING.md); such files are imported with this module.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from core.data.dataset import ImageDataset, load_dataset
from core.data.splits import AnomalySplit
from core.errors import UserError
from core.models import Kind, model_kind
from core.runs.results import cached_arrays, checkpoint_key
from core.runs.store import Run
from core.settings import Settings
from core.training.config import run_config

SCORES: dict[str, type[AnomalyScore]] = {}  # every score class by name, in definition order
CACHE_VERSION = 3  # bump when a score's definition changes: cached scores are recomputed
# (3: the gallery's reconstructions and error maps are cached with the scores)


@dataclass
class Forward:
    """One batch through the model: inputs, reconstruction, code, and the VAE's mu/logvar."""

    x: object  # torch tensors; typed loosely so this module imports without torch
    recon: object
    code: object
    logvar: object | None = None
    loss_params: dict | None = None


class AnomalyScore:
    """Base of every score; a subclass with a name registers itself in SCORES.

    One protocol, three steps, each with a default that does nothing, so the Scorer, export and
    bundles never ask which family a score is: `fit(train_codes)` on the normal training codes,
    `in_batch(f)` a per-image tensor during the forward pass (or None), `final(codes, in_batch)`
    the per-image values from the codes and the in-batch value. `state()`/`from_state` carry a
    fitted score in an exported bundle as plain arrays."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    kinds: ClassVar[tuple[Kind, ...]] = Kind.with_decoder()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            SCORES[cls.name] = cls

    def fit(self, train_codes: np.ndarray) -> AnomalyScore:
        return self

    def in_batch(self, f: Forward):
        return None

    def final(self, codes: np.ndarray, in_batch: np.ndarray | None) -> np.ndarray:
        return in_batch

    def state(self) -> dict[str, np.ndarray]:
        """The fitted state as plain numeric arrays (what an exported bundle stores)."""
        return {}

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray]) -> AnomalyScore:
        """The score fitted as it was when state() was taken."""
        return cls()


class ReconstructionScore(AnomalyScore):
    """A per-image value computed from the forward pass of a batch: define per_image(f)."""

    def per_image(self, f: Forward):
        raise NotImplementedError

    def in_batch(self, f: Forward):
        return self.per_image(f)


def pictures(recon, x) -> dict:
    """uint8 (reconstruction, per-pixel squared error map scaled to each image's largest error)
    of a batch, as tensors: what the Anomaly page's galleries show."""
    err = ((recon - x) ** 2).mean(1, keepdim=True)
    err = err / err.flatten(1).max(1).values.clamp(min=1e-8).view(-1, 1, 1, 1)
    return {"recon": _uint8(recon), "err": _uint8(err)}


def _uint8(images):
    import torch

    return (images.clamp(0.0, 1.0) * 255).round().to(torch.uint8)


def _float64(codes) -> np.ndarray:
    return np.asarray(codes, dtype=np.float64)


class LatentScore(AnomalyScore):
    """Fitted on the normal training codes, then asked about any codes: define fit and score."""

    def fit(self, train_codes: np.ndarray) -> LatentScore:
        raise NotImplementedError

    def score(self, codes: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def final(self, codes: np.ndarray, in_batch: np.ndarray | None) -> np.ndarray:
        return self.score(codes)

    def state(self) -> dict[str, np.ndarray]:
        """The fitted state as plain numeric arrays (what an exported bundle stores)."""
        raise NotImplementedError(f"score {self.name} cannot be exported")

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray]) -> LatentScore:
        """The score fitted as it was when state() was taken."""
        raise NotImplementedError(f"score {cls.name} cannot be exported")


class NegativeElbo(ReconstructionScore):
    name = "neg_elbo"
    description = "VAE negative ELBO (reconstruction + beta * KL)"
    kinds = (Kind.VAE,)

    def per_image(self, f: Forward):
        import torch.nn.functional as F

        params = {"beta": 1.0, "reconstruction": "bce", **(f.loss_params or {})}
        if params["reconstruction"] == "bce":
            rec = F.binary_cross_entropy(f.recon.clamp(1e-6, 1 - 1e-6), f.x, reduction="none")
        else:
            rec = (f.recon - f.x) ** 2
        mu, logvar = f.code, f.logvar
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(1)
        return rec.flatten(1).sum(1) + float(params["beta"]) * kl


class MSE(ReconstructionScore):
    name = "mse"
    description = "reconstruction MSE"

    def per_image(self, f: Forward):
        return (f.recon - f.x).flatten(1).pow(2).mean(1)


class L1(ReconstructionScore):
    name = "l1"
    description = "reconstruction L1"

    def per_image(self, f: Forward):
        return (f.recon - f.x).flatten(1).abs().mean(1)


class MSEPlusL1(ReconstructionScore):
    name = "mse_l1"
    description = "0.8 MSE + 0.2 L1: mostly squared error, with less weight on single bad pixels"

    def per_image(self, f: Forward):
        diff = (f.recon - f.x).flatten(1)
        return 0.8 * diff.pow(2).mean(1) + 0.2 * diff.abs().mean(1)


class MixtureNLL(LatentScore):
    name = "gmm_nll"
    description = "Gaussian-mixture negative log-likelihood of the code"

    def fit(self, train_codes):
        from sklearn.mixture import GaussianMixture

        # float64: sklearn's diagonal variances are E[x^2] - E[x]^2, which in float32 turned
        # negative for a code dimension stuck at a large constant (dead units after one K49 epoch)
        self.gmm_ = GaussianMixture(min(10, max(1, len(train_codes) // 50)), covariance_type="diag",
                                    reg_covar=1e-4, random_state=0).fit(_float64(train_codes))
        return self

    def score(self, codes):
        return -self.gmm_.score_samples(_float64(codes))

    def state(self):
        g = self.gmm_
        return {"weights": g.weights_, "means": g.means_, "covariances": g.covariances_,
                "precisions_cholesky": g.precisions_cholesky_}

    @classmethod
    def from_state(cls, arrays):
        from sklearn.mixture import GaussianMixture

        out = cls()
        out.gmm_ = g = GaussianMixture(len(arrays["weights"]), covariance_type="diag")
        g.weights_, g.means_ = arrays["weights"], arrays["means"]
        g.covariances_, g.precisions_cholesky_ = arrays["covariances"], arrays["precisions_cholesky"]
        g.precisions_ = g.precisions_cholesky_ ** 2
        g.n_features_in_ = g.means_.shape[1]
        return out


class NearestNeighbours(LatentScore):
    name = "knn"
    description = "mean distance to the 5 nearest normal training codes"

    def fit(self, train_codes):
        from sklearn.neighbors import NearestNeighbors

        self.knn_ = NearestNeighbors(n_neighbors=min(5, len(train_codes))).fit(train_codes)
        self.train_codes_ = np.asarray(train_codes)
        return self

    def score(self, codes):
        return self.knn_.kneighbors(codes)[0].mean(1)

    def state(self):
        return {"train_codes": self.train_codes_}

    @classmethod
    def from_state(cls, arrays):
        return cls().fit(arrays["train_codes"])


class Mahalanobis(LatentScore):
    name = "mahalanobis"
    description = "Mahalanobis distance of the code to the normal training codes"

    def fit(self, train_codes):
        from sklearn.covariance import LedoitWolf

        # Shrinkage keeps the covariance invertible when codes (128-d) outnumber what data pins down.
        self.cov_ = LedoitWolf().fit(train_codes)
        return self

    def score(self, codes):
        return np.sqrt(self.cov_.mahalanobis(codes))

    def state(self):
        return {"location": self.cov_.location_, "covariance": self.cov_.covariance_,
                "precision": self.cov_.precision_}

    @classmethod
    def from_state(cls, arrays):
        from sklearn.covariance import LedoitWolf

        out = cls()
        out.cov_ = c = LedoitWolf()
        c.location_, c.covariance_, c.precision_ = (arrays["location"], arrays["covariance"],
                                                    arrays["precision"])
        c.n_features_in_ = c.location_.shape[0]
        return out


def _discover() -> None:
    """Import every `core/anomaly/score_*.py`: each file defines (and so registers) its scores."""
    import importlib
    import pkgutil

    import core.anomaly as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("score_"):
            importlib.import_module(f"{package.__name__}.{info.name}")


_discover()


def score_names(kind: Kind) -> dict[str, str]:
    """{name: description} of the scores a model of this kind has; its own loss's score first."""
    names = {name: cls.description for name, cls in SCORES.items() if kind in cls.kinds}
    return dict(sorted(names.items(), key=lambda kv: not (kind.has_elbo and kv[0] == "neg_elbo")))


class Scorer:
    """A run's model and its latent scores fitted on normal training images; scores any images."""

    def __init__(self, run: Run, device: str = "cpu"):
        from core.inference import load_model

        config = run_config(run)
        kind = model_kind(config.model)
        if not kind.has_decoder:
            raise UserError(f"{run.name()} is a {kind}; anomaly scores need an autoencoder "
                            "or VAE run")
        model, self.state = load_model(run, device=device)
        self._setup(model, kind, dict(config.loss_params), device)

    @classmethod
    def for_model(cls, model, kind: Kind, loss_params: dict, device: str = "cpu") -> Scorer:
        """A scorer of a model loaded another way (an exported bundle's TorchScript module, which
        has the same forward, encode and decode)."""
        scorer = cls.__new__(cls)
        scorer.state = None
        scorer._setup(model, kind, dict(loss_params), device)
        return scorer

    def _setup(self, model, kind: Kind, loss_params: dict, device: str) -> None:
        self.model, self.kind, self.loss_params, self.device = model, kind, loss_params, device
        self.scores = [SCORES[name]() for name in score_names(kind)]

    def _forward(self, images: np.ndarray, progress=None, names: set[str] | None = None,
                 with_pictures: bool = False) -> dict[str, np.ndarray]:
        from core.inference import forward_batches
        from core.models.output import coded

        wanted = [s for s in self.scores if names is None or s.name in names]

        def batch(x):
            given = coded(self.model, x, self.kind)
            f = Forward(x, given.recon, given.code, given.logvar, self.loss_params)
            out = {"code": f.code}
            for s in wanted:
                value = s.in_batch(f)
                if value is not None:
                    out[s.name] = value
            return {**out, **pictures(f.recon, x)} if with_pictures else out

        return forward_batches(batch, images, device=self.device, progress=progress)

    def fit(self, train_images: np.ndarray) -> Scorer:
        if len(train_images) < 10:
            raise UserError("fewer than 10 normal training images: too few to fit latent scores")
        codes = self._forward(train_images, names=set())["code"]
        for s in self.scores:
            s.fit(codes)  # a no-op for a score with nothing to learn
        return self

    def score(self, images: np.ndarray, progress=None, names: tuple[str, ...] | None = None,
              with_pictures: bool = False) -> dict[str, np.ndarray]:
        """Every score (or only those named) of every image, as float64, in score_names order;
        with_pictures: also "recon" and "err", uint8 (see `pictures`), from the same pass."""
        wanted = None if names is None else set(names)
        out = self._forward(images, progress, wanted, with_pictures)
        result = {k: out[k] for k in ("recon", "err") if with_pictures}
        for s in self.scores:
            if wanted is not None and s.name not in wanted:
                continue
            value = s.final(out["code"], out.get(s.name))
            result[s.name] = np.asarray(value, dtype=np.float64)
        return result


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
    recon: np.ndarray | None = None  # uint8 reconstruction of each image (the galleries')
    err: np.ndarray | None = None  # uint8 error map of each image, scaled to its largest error

    def part(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.split == split)


def anomaly_view(run: Run, classes, normal: tuple[str, ...] | None) -> tuple[AnomalySplit, bool]:
    """The normal/anomaly split to score with, and whether the run trained on normal images only."""
    config = run_config(run)
    kind = model_kind(config.model)
    if not kind.has_decoder:
        raise UserError(f"{run.name()} is a {kind}; anomaly scores need an autoencoder or VAE run")
    chosen = tuple(normal) if normal else config.normal_classes
    if not chosen:
        raise UserError(f"{run.name()} was trained on every class; choose which classes are normal")
    view = AnomalySplit.choose(classes, normal=chosen)
    trained_on = set(config.normal_classes) if config.normal_classes else set(classes)
    return view, not (trained_on & set(view.anomaly_classes))


def normal_training_rows(ds: ImageDataset, view: AnomalySplit) -> np.ndarray:
    """Training images of the normal classes: what latent scores are fitted on."""
    train = ds.indices("train")
    normal = view.mask(ds.labels, ds.classes) & ~view.is_anomaly(ds.labels, ds.classes)
    return train[normal[train]]


def compute_scores(run: Run, settings: Settings, normal: tuple[str, ...] | None = None,
                   ds: ImageDataset | None = None) -> AnomalyScores:
    """Every score for the val and test images; computed once per (checkpoint, normal classes)."""
    config = run_config(run)
    ds = ds or load_dataset(config.dataset, settings)
    view, normal_only = anomaly_view(run, ds.classes, normal)

    def compute() -> dict[str, np.ndarray]:
        keep = view.mask(ds.labels, ds.classes)
        is_anomaly = view.is_anomaly(ds.labels, ds.classes)
        scored = np.concatenate([ds.indices("val"), ds.indices("test")])
        scored = scored[keep[scored]]
        scorer = Scorer(run).fit(ds.images[normal_training_rows(ds, view)])
        scores = scorer.score(ds.images[scored], with_pictures=True)
        shown = {k: scores.pop(k) for k in ("recon", "err")}  # the galleries read these
        split_names = np.where(np.isin(scored, ds.indices("val")), "val", "test")
        return {"index": scored, "split": split_names, "labels": ds.labels[scored],
                "is_anomaly": is_anomaly[scored], **shown,
                **{f"score_{k}": v for k, v in scores.items()}}

    key = {"checkpoint": checkpoint_key(run), "dataset": config.dataset,
           "normal": list(view.normal_classes), "version": CACHE_VERSION,
           "scores": list(score_names(model_kind(config.model)))}  # a new score recomputes
    arrays, hit = cached_arrays(run, settings, "anomaly-scores", key, compute)
    scores = {k[len("score_"):]: v for k, v in arrays.items() if k.startswith("score_")}
    return AnomalyScores(arrays["index"], arrays["split"], arrays["labels"], arrays["is_anomaly"],
                         scores, view, normal_only, hit, arrays["recon"], arrays["err"])
