"""Generate images on the line between two class centres in a model's latent space, and ask a
classifier what it sees along the way (the clocks/crocodiles project's unbuilt third part)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import UserError
from core.latent_analysis import class_centres, interpolate, most_ambiguous
from core.models import model_kind
from core.runs import Run


@dataclass
class Strip:
    images: np.ndarray  # uint8 (steps, C, H, W)
    t: np.ndarray  # position along the line, 0 = class a's centre, 1 = class b's
    proba: np.ndarray | None  # (steps, n_classes) from the classifier, if one was given
    ambiguous: np.ndarray  # rows of the strip with the closest two-class probabilities


def decode_between(run: Run, codes: np.ndarray, labels: np.ndarray, n_classes: int, class_a: int,
                   class_b: int, steps: int, classifier: Run | None = None) -> Strip:
    """Decode `steps` points from centre(a) to centre(b); codes/labels are the training codes."""
    import torch

    from core.losses import class_probabilities
    from core.training.checkpoint import load_model

    if model_kind(run.config().model) == "classifier":
        raise UserError(f"{run.name()} is a classifier and has no decoder; generate with an "
                        "autoencoder or VAE run")
    if class_a == class_b:
        raise UserError("choose two different classes")
    centres = class_centres(codes, labels, n_classes)
    if np.isnan(centres[[class_a, class_b]]).any():
        raise UserError("both classes need training images to have a centre")
    line = interpolate(centres[class_a], centres[class_b], steps)
    model, state = load_model(run)
    with torch.no_grad():
        images = model.decode(torch.from_numpy(line).float())
    proba = None
    ambiguous = np.empty(0, dtype=int)
    if classifier is not None:
        clf, clf_state = load_model(classifier)
        if list(clf_state["in_shape"]) != list(state["in_shape"]):
            raise UserError(f"the classifier takes {clf_state['in_shape']} images but this model "
                            f"makes {state['in_shape']}")
        if len(clf_state["classes"]) != n_classes:
            raise UserError("the classifier was trained on different classes")
        with torch.no_grad():
            proba = class_probabilities(clf(images)).numpy()
        ambiguous = most_ambiguous(proba, class_a, class_b)
    return Strip((images * 255).round().byte().numpy(), np.linspace(0, 1, steps), proba, ambiguous)
