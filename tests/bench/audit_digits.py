"""audit_digits: the whole audit (K-fold cross-fitting, cleanlab scoring,
duplicates) against training the same config once on the same training images, in the same run.
Goal: the audit within K+1 trainings; the duplicate search within 10 s at 60,000 images."""
from __future__ import annotations

from tests.bench.common import Figure, env_vars, timed, tmp_dir

FOLDS = 3


def _one_training(spec: str, config) -> float:
    """Seconds of one training of config on the dataset's training split (no run folder)."""
    import torch

    from core.training.data import prepare
    from core.training.loop import Trainer

    trainer = Trainer(config, prepare(config, torch.device("cpu")), torch.device("cpu"))
    return timed(trainer.fit)[0]


def audit_figures(bench: str, spec: str, options, repeats: int, dup_goal: float | None) -> list[Figure]:
    from core.audit.report import resolve_target, run_audit
    from core.settings import Settings
    from core.training.config import TrainConfig

    base = Figure(bench, "baseline: one training of the config")
    total = Figure(bench, "whole audit (fresh cache)", baseline=base.name, ratio_goal=options.folds + 1)
    parts = {k: Figure(bench, f"  {k}") for k in ("cross_fitting", "scoring", "outliers")}
    parts["duplicates"] = Figure(bench, "  duplicates", goal=dup_goal)
    for _ in range(repeats):
        with tmp_dir("audit") as ws, env_vars(DASH_WORKSPACE=str(ws), DASH_DATA_ROOTS=str(ws)):
            settings = Settings.from_env()
            config, _ = resolve_target(spec, settings)
            config = TrainConfig.from_dict({**config.to_dict(), "model": options.model,
                                            "model_params": dict(options.model_params),
                                            "epochs": options.epochs})
            base.values.append(_one_training(spec, config))
            seconds, report = timed(run_audit, spec, settings, options)
            assert not report["from_cache"]
            total.values.append(seconds)
            for k, fig in parts.items():
                fig.values.append(report["seconds"][k])
    return [total, *parts.values(), base]


def audit_digits(repeats: int) -> list[Figure]:
    """digits (1,293 training images), an MLP, 3 folds x 10 epochs."""
    from core.audit.report import AuditOptions

    options = AuditOptions(folds=FOLDS, epochs=10, model="mlp", model_params=(("hidden", [64]),))
    return audit_figures("audit_digits", "digits", options, repeats, dup_goal=None)
