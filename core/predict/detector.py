"""What predict applies, behind one interface: a run's model (`RunDetector`) or an exported
bundle's (`core.predict.bundle.BundleDetector`), with its recipe, scores, saved thresholds and the
validation and test scores strategies are fitted on and new scores are compared with."""
from __future__ import annotations

from functools import cached_property

import numpy as np

from core.anomaly.decisions import lookup_threshold, saved_threshold_path
from core.anomaly.record import PROBABILITY, Lookup, ThresholdRecord
from core.anomaly.scores import SCORES, LatentScore, Scorer, score_names
from core.errors import UserError
from core.models import Kind, model_kind
from core.predict.recipe import Recipe
from core.runs.store import Run
from core.settings import Settings
from core.training.config import run_config

__all__ = ["PROBABILITY", "Detector", "RunDetector", "class_probabilities_of"]


def class_probabilities_of(model, images: np.ndarray, device: str) -> np.ndarray:
    """(N, n_classes) probabilities from a classifier (a run's or a bundle's) in one batched pass."""
    from core.inference import forward_batches
    from core.models.losses import class_probabilities

    return forward_batches(lambda x: {"proba": class_probabilities(model(x))}, images,
                           device=device)["proba"]


class Detector:
    """A model with its recipe. Subclasses set the attributes and the methods below."""

    name: str  # the run's name or the bundle's, for messages
    kind: Kind
    classes: tuple[str, ...]
    recipe: Recipe
    normal_classes: tuple[str, ...]  # what its scores and thresholds call normal
    device: str

    def score_names(self) -> tuple[str, ...]:
        """The anomaly scores it can compute (none for a classifier)."""
        raise NotImplementedError

    def scores(self, images: np.ndarray, score: str) -> np.ndarray:
        raise NotImplementedError

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def threshold_lookup(self, score: str) -> Lookup:
        """The saved record for this score (and these normal classes), or why none applies."""
        raise NotImplementedError

    def saved_threshold(self, score: str) -> ThresholdRecord | None:
        return self.threshold_lookup(score).record

    def reference_scores(self, score: str, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(scores, is_anomaly) of the run's val or test images: what strategies are fitted on
        (val) and what new scores are compared with (test)."""
        raise NotImplementedError

    def default_score(self) -> str:
        """The score whose threshold was saved last, else mse, else the first it has."""
        names = self.score_names()
        saved = [t for t in (self.saved_threshold(n) for n in names) if t is not None]
        if saved:
            return max(saved, key=lambda t: t.saved).score
        return "mse" if "mse" in names else names[0]

    def check_score(self, score: str) -> None:
        if not self.kind.has_decoder:
            raise UserError(f"{self.name} is a {self.kind}: it predicts classes, not anomaly scores")
        if score not in self.score_names():
            raise UserError(f"unknown score {score!r}; {self.name} has: "
                            f"{', '.join(self.score_names())}")


class RunDetector(Detector):
    """A run in the store: its best checkpoint, its dataset for latent fits and references."""

    def __init__(self, run: Run, settings: Settings, device: str = "cpu"):
        from core.inference import load_model

        config = run_config(run)
        self.run, self.settings, self.device = run, settings, device
        self.name, self.kind = run.name(), model_kind(config.model)
        self.model, state = load_model(run, device=device)
        self.classes = tuple(str(c) for c in state["classes"])
        self.recipe = Recipe.for_spec(config.dataset, state["in_shape"])
        self.normal_classes = tuple(config.normal_classes) or self._saved_normal_classes()

    def _saved_normal_classes(self) -> tuple[str, ...]:
        """A run trained on every class: the normal classes its newest saved threshold chose."""
        records = [ThresholdRecord.load(saved_threshold_path(self.run, self.settings, n))
                   for n in self.score_names()]
        records = [r for r in records if r is not None]
        return max(records, key=lambda r: r.saved).normal_classes if records else ()

    def score_names(self) -> tuple[str, ...]:
        return tuple(score_names(self.kind)) if self.kind.has_decoder else ()

    def _require_normal_classes(self) -> tuple[str, ...]:
        if not self.normal_classes:
            raise UserError(f"{self.name} was trained on every class and no threshold was saved "
                            "for it: choose its normal classes on the Anomaly page and save a "
                            "threshold there")
        return self.normal_classes

    @cached_property
    def _scorer(self) -> Scorer:
        return Scorer(self.run, self.device)

    @cached_property
    def fitted_scorer(self) -> Scorer:
        """Latent scores fitted on the normal training images, as compute_scores fits them."""
        from core.anomaly.scores import anomaly_view, normal_training_rows
        from core.data.dataset import load_dataset

        ds = load_dataset(run_config(self.run).dataset, self.settings)
        view, _ = anomaly_view(self.run, ds.classes, self._require_normal_classes())
        return Scorer(self.run, self.device).fit(ds.images[normal_training_rows(ds, view)])

    def scorer_for(self, score: str) -> Scorer:
        """A scorer that can compute this score (fitted when the score is a latent one)."""
        self.check_score(score)
        return self.fitted_scorer if issubclass(SCORES[score], LatentScore) else self._scorer

    def scores(self, images: np.ndarray, score: str) -> np.ndarray:
        return self.scorer_for(score).score(images, names=(score,))[score]

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        return class_probabilities_of(self.model, images, self.device)

    def threshold_lookup(self, score: str) -> Lookup:
        return lookup_threshold(self.run, self.settings, score, self.normal_classes)

    @cached_property
    def anomaly_scores(self):
        """Every score of the val and test images (cached with the run)."""
        from core.anomaly.scores import compute_scores

        return compute_scores(self.run, self.settings, self._require_normal_classes())

    def reference_scores(self, score: str, split: str) -> tuple[np.ndarray, np.ndarray]:
        self.check_score(score)
        a = self.anomaly_scores
        rows = a.part(split)
        return a.scores[score][rows], a.is_anomaly[rows]
