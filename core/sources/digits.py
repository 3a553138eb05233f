"""scikit-learn's bundled 8x8 digits: the default dataset, works offline."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.sources.base import RawData, register


@dataclass(frozen=True)
class DigitsSource:
    name: str = "digits"
    title: str = "Digits (8x8, bundled)"
    description: str = "scikit-learn's 1,797 handwritten digits, 8x8 grayscale; no download."
    needs_root: bool = False

    def fingerprint(self, spec) -> str:
        import sklearn

        return f"sklearn-{sklearn.__version__}"

    def load(self, spec, download, progress) -> RawData:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        # Pixels are 0..16 counts; scale to the 0..255 range every other source uses.
        images = np.rint(bunch.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
        return RawData(
            train_images=images[:, None, :, :],
            train_labels=bunch.target.astype(np.int64),
            classes=[str(c) for c in bunch.target_names],
        )


register(DigitsSource())
