"""Gaussian-mixture clusters of codes, named by the majority TRAINING class in each and scored on
test (never named with test labels, the mistake of the cracks project)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, confusion_matrix

from core.errors import UserError


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

    def component_names(self, codes: np.ndarray) -> np.ndarray:
        """'cluster 3 · 5' (component · the class it is named after) for each of codes."""
        return np.asarray([f"cluster {c} · {self.names[c]}" for c in self.components(codes)],
                          dtype=object)

    def table(self) -> pd.DataFrame:
        """One row per component: its name and how many training and test codes it holds."""
        return pd.DataFrame({
            "cluster": range(self.n_components), "named as": self.names,
            "train images": np.bincount(self.train_components, minlength=self.n_components),
            "test images": np.bincount(self.test_components, minlength=self.n_components)})


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
