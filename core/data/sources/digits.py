"""scikit-learn's bundled 8x8 digits: the default dataset, works offline."""
from __future__ import annotations

import gzip
import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.sources.base import RawData, register


def _bundled_csv() -> Path | None:
    """The digits.csv.gz scikit-learn ships, found without importing sklearn (~1 s here)."""
    spec = importlib.util.find_spec("sklearn")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "datasets" / "data" / "digits.csv.gz"
        if path.exists():
            return path
    return None


@dataclass(frozen=True)
class DigitsSource:
    name: str = "digits"
    title: str = "Digits (8x8, bundled)"
    description: str = "scikit-learn's 1,797 handwritten digits, 8x8 grayscale; no download."
    needs_root: bool = False

    def fingerprint(self, spec) -> str:
        return f"sklearn-{importlib.metadata.version('scikit-learn')}"

    def load(self, spec, download, progress) -> RawData:
        path = _bundled_csv()
        if path is not None:  # the same file and parsing as sklearn.datasets.load_digits
            with gzip.open(path, "rt") as f:
                table = np.loadtxt(f, delimiter=",")
            pixels, target = table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)
        else:
            from sklearn.datasets import load_digits

            bunch = load_digits()
            pixels, target = bunch.images, bunch.target.astype(np.int64)
        # Pixels are 0..16 counts; scale to the 0..255 range every other source uses.
        images = np.rint(pixels * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
        return RawData(train_images=images[:, None, :, :], train_labels=target,
                       classes=[str(c) for c in range(10)])


register(DigitsSource())
