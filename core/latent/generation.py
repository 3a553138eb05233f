"""Generate images on the line between two class centres in a model's latent space, and ask a
classifier what it sees along the way (the clocks/crocodiles project's unbuilt third part)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import UserError
from core.latent.geometry import class_centres, nearest_rows
from core.models import model_kind
from core.runs.store import Run
from core.training.config import run_config


def interpolate(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """steps points on the straight line from a to b, both ends included."""
    if steps < 2:
        raise UserError("generation needs at least 2 steps")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (1 - t) * a[None] + t * b[None]


def most_ambiguous(proba: np.ndarray, class_a: int, class_b: int, k: int = 3) -> np.ndarray:
    """Rows whose probabilities for the two classes are closest to equal."""
    gap = np.abs(proba[:, class_a] - proba[:, class_b])
    return np.argsort(gap, kind="stable")[:k]


@dataclass
class Strip:
    images: np.ndarray  # uint8 (steps, C, H, W)
    t: np.ndarray  # position along the line, 0 = class a's centre, 1 = class b's
    proba: np.ndarray | None  # (steps, n_classes) from the classifier, if one was given
    ambiguous: np.ndarray  # rows of the strip with the closest two-class probabilities


def decode(run: Run, codes: np.ndarray) -> np.ndarray:
    """uint8 (N, C, H, W) images the run's decoder makes from latent codes."""
    from core.inference import forward_batches, load_model, to_uint8

    kind = model_kind(run_config(run).model)
    if not kind.has_decoder:
        raise UserError(f"{run.name()} is a {kind} and has no decoder; generate with an "
                        "autoencoder or VAE run")
    model, _ = load_model(run)
    out = forward_batches(lambda z: {"images": model.decode(z)}, np.asarray(codes, np.float32))
    return to_uint8(out["images"])


def centre_images(run: Run, codes: np.ndarray, images: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(K, C, H, W) uint8, a picture of each class centre: the centre decoded (autoencoder/VAE)
    or, for a classifier, the image whose code is nearest it. Rows of absent classes are blank."""
    present = ~np.isnan(centres).any(1)
    out = np.zeros((len(centres), *images.shape[1:]), dtype=np.uint8)
    if not present.any():
        return out
    if model_kind(run_config(run).model).has_decoder:
        out[present] = decode(run, centres[present])
    else:
        out[present] = images[nearest_rows(codes, centres[present])]
    return out


def decode_between(run: Run, codes: np.ndarray, labels: np.ndarray, n_classes: int, class_a: int,
                   class_b: int, steps: int, classifier: Run | None = None) -> Strip:
    """Decode `steps` points from centre(a) to centre(b); codes/labels are the training codes."""
    from core.inference import forward_batches, load_model
    from core.models.losses import class_probabilities

    if class_a == class_b:
        raise UserError("choose two different classes")
    centres = class_centres(codes, labels, n_classes)
    if np.isnan(centres[[class_a, class_b]]).any():
        raise UserError("both classes need training images to have a centre")
    images = decode(run, interpolate(centres[class_a], centres[class_b], steps))
    proba = None
    ambiguous = np.empty(0, dtype=int)
    if classifier is not None:
        clf, clf_state = load_model(classifier)
        _, state = load_model(run)
        if list(clf_state["in_shape"]) != list(state["in_shape"]):
            raise UserError(f"the classifier takes {clf_state['in_shape']} images but this model "
                            f"makes {state['in_shape']}")
        if len(clf_state["classes"]) != n_classes:
            raise UserError("the classifier was trained on different classes")
        proba = forward_batches(lambda x: {"p": class_probabilities(clf(x))}, images)["p"]
        ambiguous = most_ambiguous(proba, class_a, class_b)
    return Strip(images, np.linspace(0, 1, steps), proba, ambiguous)
