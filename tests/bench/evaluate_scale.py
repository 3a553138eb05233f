"""evaluate_scale: the Evaluate page (AppTest, server side) at Kuzushiji-49 size (49 classes,
38,547 test images) against the shipped 10-class digits classifier in the same run: first render
(predictions, metrics and curves computed), a fresh session with them cached, and a change of the
classes on the ROC/PR curves (a full rerun)."""
from __future__ import annotations

import time

from tests.bench.common import Figure, env_vars, tmp_dir

K49_SWITCH, DIGITS_SWITCH = ["あ", "ぎ"], ["1", "2"]


def _k49_run(base) -> str:
    """A one-epoch MLP on a small 49-class set whose files are then replaced by K49-size ones."""
    from core.runs.store import open_store
    from core.settings import Settings
    from core.training.config import TrainConfig
    from core.training.runner import train_run
    from tests.bench.scale_ladder_data import write_k49_sized
    from tests.data_writers import write_k49

    root = base / "data" / "k49"
    write_k49(root, n_train=2_000, n_test=500)
    config = TrainConfig(dataset=f"k49?root={root}", model="mlp", model_params={"hidden": [32]},
                         epochs=1, schedule="none", lr=1e-2)
    run = open_store(Settings.from_env()).create(config)
    train_run(run, config)
    write_k49_sized(root, compressed=False)
    return run.id


def _timed_page(run_id: str, classes: list[str], first: Figure, warm: Figure, change: Figure,
                repeats: int) -> None:
    from tests.apptest_helpers import open_page

    start = time.perf_counter()
    open_page("evaluate", timeout=900, run=run_id)
    first.values.append(time.perf_counter() - start)
    for _ in range(repeats):
        start = time.perf_counter()
        at = open_page("evaluate", timeout=900, run=run_id)
        warm.values.append(time.perf_counter() - start)
    for i in range(2 * repeats):
        start = time.perf_counter()
        at.multiselect(key="roc_classes").set_value(classes if i % 2 else classes[:1]).run()
        change.values.append(time.perf_counter() - start)
        assert not at.exception


def evaluate_scale(repeats: int) -> list[Figure]:
    b = "evaluate_scale"
    figs = {k: Figure(b, f"baseline: digits, {what}") for k, what in (
        ("first", "first render"), ("warm", "new session, cached"), ("change", "ROC classes change"))}
    k49 = {"first": Figure(b, "K49 size, first render (predict 38,547)", baseline=figs["first"].name),
           "warm": Figure(b, "K49 size, new session, cached", baseline=figs["warm"].name),
           "change": Figure(b, "K49 size, ROC classes change", goal=0.3, baseline=figs["change"].name)}
    with tmp_dir("evaluate-scale") as base:
        with env_vars(DASH_WORKSPACE=str(base / "workspace"), DASH_DATA_ROOTS=str(base / "data"),
                      DASH_AUTO_PROJECTIONS="0"):
            run_id = _k49_run(base)
            _timed_page("digits-classifier", DIGITS_SWITCH, figs["first"], figs["warm"],
                        figs["change"], repeats)
            _timed_page(run_id, K49_SWITCH, k49["first"], k49["warm"], k49["change"], repeats)
    return [*k49.values(), *figs.values()]
