"""95% intervals for the rates at a threshold, from its counts alone (the browser computes the
same, threshold_panel_assets/sweep.js): Wilson score intervals for TPR, TNR and precision (the
same as scipy.stats.binomtest(k, n).proportion_ci(method="wilson")), and for F1 the delta method
on the multinomial counts (Takahashi et al. 2022: var F1 = 4 TP E (TP + E) / (2 TP + E)^4 with
E = FP + FN), a normal interval clipped to [0, 1]."""
from __future__ import annotations

import math

Z95 = 1.959963984540054  # the 97.5% quantile of the standard normal
F1_METHOD = "delta method on the counts (Takahashi et al. 2022), clipped to [0, 1]"
PROPORTION_METHOD = "Wilson score interval"
FEW = 20  # fewer anomalies or normals than this on the split a threshold is tuned on: warn


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of k successes in n trials; (nan, nan) when n is 0."""
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def f1_interval(tp: int, fp: int, fn: int, z: float = Z95) -> tuple[float, float]:
    """Delta-method interval of F1 = 2TP / (2TP + FP + FN); (nan, nan) when F1 is undefined."""
    errors = fp + fn
    if 2 * tp + errors == 0:
        return (math.nan, math.nan)
    f1 = 2 * tp / (2 * tp + errors)
    se = math.sqrt(4 * tp * errors * (tp + errors)) / (2 * tp + errors) ** 2
    return (max(0.0, f1 - z * se), min(1.0, f1 + z * se))


def rate_intervals(tp: int, fp: int, tn: int, fn: int) -> dict[str, tuple[float, float]]:
    """95% intervals of TPR, TNR, precision and F1 at these counts."""
    return {"tpr": wilson(tp, tp + fn), "tnr": wilson(tn, tn + fp),
            "precision": wilson(tp, tp + fp), "f1": f1_interval(tp, fp, fn)}


def too_few(n_anomalies: int, n_normal: int, split: str = "validation") -> str | None:
    """A warning when a split has too few anomalies or normals for its rates to mean much."""
    few = [f"{n:,} {what}" for n, what in ((n_anomalies, "anomalies"), (n_normal, "normal images"))
           if n < FEW]
    if not few:
        return None
    return (f"The {split} split has only {' and '.join(few)}: a threshold tuned on it, and the "
            "rates it reports, are uncertain (see the 95% intervals).")
