"""The names the Anomaly page and its core share: test views and confusion-matrix cells.
Light on purpose (no numpy, no pandas): widgets import it."""
from __future__ import annotations

from enum import StrEnum


class View(StrEnum):
    """The test set as the Anomaly page shows it."""
    AS_IS = "as is"
    BALANCED = "balanced"
    IMBALANCED = "imbalanced"  # 3% anomalies


class Cell(StrEnum):
    """A confusion-matrix cell: an image at or above the threshold is called an anomaly."""
    TP = "TP"
    FP = "FP"
    TN = "TN"
    FN = "FN"
