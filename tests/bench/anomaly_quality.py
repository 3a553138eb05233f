"""anomaly_digits: one autoencoder per digit as the only normal class (the other nine are the
anomalies), trained for real; test AUROC per digit and its mean, for every score type.

Not a timing: the figures are AUROCs (unit "auroc"); "goal" is a lower bound here, so the table's
ok column is left empty and the summary line states whether the best mean reaches 0.95.
"""
from __future__ import annotations

import os
import sys

import numpy as np

from tests.bench.common import Figure, tmp_dir

EPOCHS = int(os.environ.get("ANOMALY_BENCH_EPOCHS", "40"))


def anomaly_digits(repeats: int) -> list[Figure]:
    from sklearn.metrics import roc_auc_score

    from core.anomaly.scores import compute_scores
    from core.runs.store import RunStore
    from core.settings import Settings
    from core.training.config import TrainConfig
    from core.training.runner import train_run

    per_score: dict[str, list[float]] = {}
    with tmp_dir("anomaly") as ws:
        settings = Settings(workspace=ws, data_roots=(ws,))
        os.environ["DASH_WORKSPACE"] = str(ws)
        store = RunStore(settings.runs_dir)
        for digit in range(10):
            config = TrainConfig(model="conv_ae", epochs=EPOCHS, normal_classes=(str(digit),),
                                 denoise="gaussian:0.2", seed=0)
            run = store.create(config)
            state, _ = train_run(run, config)
            assert state == "done", f"digit {digit}: {state}"
            scores = compute_scores(run, settings)
            test = scores.part("test")
            for name, values in scores.scores.items():
                auc = roc_auc_score(scores.is_anomaly[test], values[test])
                per_score.setdefault(name, []).append(auc)
            print(f"    digit {digit}: " + " ".join(f"{k} {v[-1]:.3f}" for k, v in per_score.items()),
                  file=sys.stderr, flush=True)
    figures = []
    for name, aucs in per_score.items():
        figures.append(Figure("anomaly_digits", f"mean test AUROC, {name}", [float(np.mean(aucs))],
                              unit="auroc"))
        figures.append(Figure("anomaly_digits", f"worst digit AUROC, {name}", [float(np.min(aucs))],
                              unit="auroc"))
    best = max(per_score, key=lambda k: np.mean(per_score[k]))
    print(f"    best score: {best}, mean AUROC {np.mean(per_score[best]):.3f} (goal >= 0.95); "
          f"per digit: {', '.join(f'{a:.3f}' for a in per_score[best])}", file=sys.stderr)
    return figures
