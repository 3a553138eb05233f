"""New batches against the normal validation scores: a conformal p-value per image (how unusual
its score would be for a normal image) and Benjamini-Hochberg flags at a false-discovery level Q,
so that among the images flagged, the expected share of false alarms is at most Q.

p = (1 + #{normal validation scores >= s}) / (n + 1) is a valid p-value for a new normal image
exchangeable with the validation normals; conformal p-values are positively dependent (PRDS),
so BH on them controls the FDR (Bates, Candes, Lei, Romano, Sesia 2023)."""
from __future__ import annotations

import math

import numpy as np

from core.errors import UserError

MIN_CALIBRATION = 20  # fewer normal validation scores than this: p-values too coarse to use


def conformal_p_values(calibration, scores) -> np.ndarray:
    """(1 + #{calibration >= s}) / (n + 1) for each score s (NaN stays NaN)."""
    cal = np.sort(np.asarray(calibration, dtype=np.float64))
    if not len(cal) or not np.isfinite(cal).all():
        raise UserError("no finite normal validation scores to compare new images with")
    scores = np.asarray(scores, dtype=np.float64)
    at_or_above = len(cal) - np.searchsorted(cal, scores, side="left")
    p = (1 + at_or_above) / (len(cal) + 1)
    return np.where(np.isnan(scores), np.nan, p)


def check_fdr(q) -> float:
    """A false-discovery level strictly between 0 and 1 (a number or its text)."""
    try:
        value = float(q)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(q, bool) or not math.isfinite(value) or not 0 < value < 1:
        raise UserError(f"--fdr is a false-discovery level between 0 and 1 (e.g. 0.05), not {q}")
    return value


def bh_flags(p_values, q: float) -> np.ndarray:
    """Benjamini-Hochberg at level q (scipy.stats.false_discovery_control): True = flagged."""
    from scipy.stats import false_discovery_control

    q = check_fdr(q)
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1 or len(p) < 2:
        raise UserError(f"--fdr needs a batch of at least 2 images; this one has {len(p)}: judge "
                        "a single image by its p-value or a threshold")
    return false_discovery_control(p, method="bh") <= q


def fdr_sentence(q: float, flagged: int) -> str:
    return (f"expected false alarms among flagged <= {q:g} x {flagged:,} = {q * flagged:.3g} "
            f"(Benjamini-Hochberg at {q:g} on conformal p-values)")
