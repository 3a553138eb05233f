"""What follows a chosen threshold: test views, decisions per image, the galleries' rankings,
the saved threshold record, and reconstructions for the galleries."""
from __future__ import annotations

import numpy as np

from core.errors import UserError
from core.runs.store import Run


def view_rows(is_anomaly: np.ndarray, view: str, seed: int = 0,
              anomaly_share: float = 0.03) -> np.ndarray:
    """Rows of a test set as is, balanced (equal counts) or imbalanced (3% anomalies, as the
    cracks project's 970/30 set): subsampled with a fixed seed, so every view is repeatable."""
    rng = np.random.default_rng(seed)
    normal, anomalous = np.flatnonzero(~is_anomaly), np.flatnonzero(is_anomaly)
    if view == "as is":
        return np.arange(len(is_anomaly))
    if view == "balanced":
        n = min(len(normal), len(anomalous))
        return np.sort(np.concatenate([rng.permutation(normal)[:n], rng.permutation(anomalous)[:n]]))
    if view == "imbalanced":
        n_anomalies = max(1, int(round(anomaly_share / (1 - anomaly_share) * len(normal))))
        return np.sort(np.concatenate([normal, rng.permutation(anomalous)[:n_anomalies]]))
    raise UserError(f"unknown test view {view!r}: as is, balanced or imbalanced")


def reconstructions(run: Run, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(reconstructions, per-pixel squared error maps scaled to each image's largest error) as
    uint8 arrays, for a gallery."""
    from core.inference import forward_batches, load_model, to_uint8

    model, _ = load_model(run)

    def batch(x):
        out = model(x)
        recon = out[0] if isinstance(out, tuple) else out
        err = ((recon - x) ** 2).mean(1, keepdim=True)
        return {"recon": recon,
                "err": err / err.flatten(1).max(1).values.clamp(min=1e-8).view(-1, 1, 1, 1)}

    out = forward_batches(batch, images)
    return to_uint8(out["recon"]), to_uint8(out["err"])
