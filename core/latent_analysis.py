"""What the Latent page computes on codes: class centres, disputable images, mixture clusters,
and images generated on the line between two class centres."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix

from core.errors import UserError


def class_centres(codes: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean code per class (rows of absent classes are NaN)."""
    centres = np.full((n_classes, codes.shape[1]), np.nan)
    for c in range(n_classes):
        if (labels == c).any():
            centres[c] = codes[labels == c].mean(0)
    return centres


def distances(codes: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, K) Euclidean distances, via |z|^2 - 2 z.c + |c|^2 so no (N, K, D) array is built."""
    sq = (codes ** 2).sum(1)[:, None] - 2 * codes @ points.T + (points ** 2).sum(1)[None, :]
    return np.sqrt(np.maximum(sq, 0.0))


def nearest_rows(codes: np.ndarray, points: np.ndarray) -> np.ndarray:
    """For each point, the row of the closest code (the real image nearest a centre)."""
    return distances(codes, points).argmin(0)


@dataclass
class Disputable:
    rows: np.ndarray  # ranked, most disputable first
    own: np.ndarray  # distance to the own class centre
    other: np.ndarray  # distance to the nearest other centre
    other_class: np.ndarray
    measure: np.ndarray  # what the tolerance is compared with (smaller = more disputable)


def disputable(codes: np.ndarray, labels: np.ndarray, centres: np.ndarray, tol: float,
               mode: str = "ratio") -> Disputable:
    """Images about as close to another class centre as to their own.

    ratio:      |1 - d_own / d_other| < tol   (scale-free)
    difference: |d_own - d_other| < tol       (the clocks/crocodiles project's rule, tol 0.2,
                                               in the units of the codes)
    """
    present = ~np.isnan(centres).any(1)
    if present.sum() < 2:
        raise UserError("disputable images need at least two classes with images")
    d = distances(codes.astype(np.float64), np.nan_to_num(centres))
    d[:, ~present] = np.inf
    own = d[np.arange(len(labels)), labels]
    d_other = d.copy()
    d_other[np.arange(len(labels)), labels] = np.inf
    other_class = d_other.argmin(1)
    other = d_other.min(1)
    if mode == "ratio":
        measure = np.abs(1 - own / np.maximum(other, 1e-12))
    elif mode == "difference":
        measure = np.abs(own - other)
    else:
        raise UserError(f"unknown rule {mode!r}: ratio or difference")
    chosen = np.flatnonzero(measure < tol)
    ranked = chosen[np.argsort(measure[chosen], kind="stable")]
    return Disputable(ranked, own, other, other_class, measure)


def lowest_margin(proba: np.ndarray) -> np.ndarray:
    """Rows ranked by classifier margin (top-1 minus top-2 probability), smallest first."""
    top = np.sort(proba, axis=1)
    return np.argsort(top[:, -1] - top[:, -2], kind="stable")


@dataclass
class Clusters:
    n_components: int
    names: list[str]  # per component: the majority training class
    bic: dict[int, float]
    test_assigned: np.ndarray  # class id each test image's cluster is named after
    report: dict
    confusion: np.ndarray  # rows: true class, columns: cluster name (as class)
    train_components: np.ndarray
    test_components: np.ndarray
    pca: object = None
    gmm: object = None

    def components(self, codes: np.ndarray) -> np.ndarray:
        """The fitted mixture's component for any codes (e.g. every point drawn on a map)."""
        return self.gmm.predict(self.pca.transform(codes))


def mixture_clusters(train_codes: np.ndarray, train_labels: np.ndarray, test_codes: np.ndarray,
                     test_labels: np.ndarray, classes, n_components: int | None = None,
                     max_components: int = 12, seed: int = 0) -> Clusters:
    """Fit a Gaussian mixture on training codes, name each component by the majority class of
    the *training* codes in it (never test labels), then score the naming on test."""
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    if len(np.unique(train_labels)) < 2:
        raise UserError("clusters need training codes of at least two classes")
    # Mixtures on 128-d codes are unstable with a few thousand points; 16 PCA dimensions keep
    # nearly all the structure.
    pca = PCA(min(16, train_codes.shape[1], len(train_codes) - 1), random_state=seed).fit(train_codes)
    train_z, test_z = pca.transform(train_codes), pca.transform(test_codes)
    candidates = [n_components] if n_components else list(range(2, max_components + 1))
    fits, bic = {}, {}
    for k in candidates:
        fits[k] = GaussianMixture(k, covariance_type="full", reg_covar=1e-4, random_state=seed,
                                  n_init=2).fit(train_z)
        bic[k] = float(fits[k].bic(train_z))
    best = min(bic, key=bic.get)
    gmm = fits[best]
    train_comp, test_comp = gmm.predict(train_z), gmm.predict(test_z)
    majority = np.array([np.bincount(train_labels[train_comp == k], minlength=len(classes)).argmax()
                         if (train_comp == k).any() else -1 for k in range(best)])
    assigned = majority[test_comp]
    ids = list(range(len(classes)))
    report = classification_report(test_labels, assigned, labels=ids, target_names=list(classes),
                                   output_dict=True, zero_division=0)
    return Clusters(best, [classes[m] if m >= 0 else "(empty)" for m in majority], bic, assigned,
                    report, confusion_matrix(test_labels, assigned, labels=ids), train_comp, test_comp,
                    pca, gmm)


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
