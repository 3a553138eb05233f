"""One step of the scale ladder in its own process, so its peak RSS is its own:
`python -m tests.bench.scale_ladder_steps STEP SPEC` with DASH_WORKSPACE and DASH_DATA_ROOTS set.
Prints one JSON line: seconds (the step; the app's own modules, torch and scikit-learn imported
before the clock starts, umap's import counted as part of UMAP), peak_rss_mib (the process), notes.
Runs made by the training steps are recorded in <workspace>/ladder.json for the later steps.
"""
from __future__ import annotations

import importlib
import json
import sys
import time

from core.settings import Settings
from tests.bench.common import own_peak_rss_mib

UMAP_PARAMS = {"n_neighbors": 15}  # the Latent page's default, so its cache serves the page


def _state(settings: Settings) -> dict:
    path = settings.workspace / "ladder.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _remember(settings: Settings, **values) -> None:
    path = settings.workspace / "ladder.json"
    path.write_text(json.dumps({**_state(settings), **values}))


def _run(settings: Settings, key: str):
    from core.runs.store import open_store

    return open_store(settings).get(_state(settings)[key])


def load(spec: str, settings: Settings) -> dict:
    from core.data.dataset import load_dataset

    ds = load_dataset(spec, settings)
    return {"from_cache": ds.from_cache, "images": len(ds.images), "shape": list(ds.shape)}


def _train_one_epoch(spec: str, settings: Settings, model: str, key: str) -> dict:
    from core.runs.store import open_store
    from core.training.config import TrainConfig
    from core.training.runner import train_run

    config = TrainConfig(dataset=spec, model=model, epochs=1, schedule="none", log_every=50,
                         name=f"ladder {model}")
    run = open_store(settings).create(config)
    state, _ = train_run(run, config)
    _remember(settings, **{key: run.id})
    record = [r for r in run.metrics() if "images_per_s" in r][-1]
    return {"state": state, "images_per_s": round(record["images_per_s"]),
            "epoch_seconds": round(record["seconds"], 2)}


def train_cnn(spec: str, settings: Settings) -> dict:
    return _train_one_epoch(spec, settings, "default_cnn", "cnn")


def train_ae(spec: str, settings: Settings) -> dict:
    return _train_one_epoch(spec, settings, "conv_ae", "ae")


def evaluate(spec: str, settings: Settings) -> dict:
    from core.evaluation.classification import class_curves, classification_metrics, predict

    p = predict(_run(settings, "cnn"), "test", settings)
    metrics = classification_metrics(p)
    class_curves(p)
    return {"test_images": int(len(p.y_true)), "balanced_accuracy": round(metrics["balanced_accuracy"], 4)}


def anomaly(spec: str, settings: Settings) -> dict:
    from core.anomaly.scores import compute_scores
    from core.data.dataset import load_dataset

    ds = load_dataset(spec, settings)
    normal = tuple(ds.classes[:-1])  # the last class plays the anomaly
    scores = compute_scores(_run(settings, "ae"), settings, normal, ds)
    return {"scored": int(len(scores.is_anomaly)), "scores": list(scores.scores)}


def pca(spec: str, settings: Settings) -> dict:
    from core.latent.features import extract
    from core.latent.projection import projection

    run = _run(settings, "ae")
    start = time.perf_counter()
    features = extract(run, settings)
    codes_s = time.perf_counter() - start
    rows, _, _ = projection(run, settings, "pca", {}, features)
    return {"codes_seconds": round(codes_s, 2), "points": int(len(rows))}


def umap(spec: str, settings: Settings) -> dict:
    from core.latent.features import extract
    from core.latent.projection import projection

    run = _run(settings, "ae")
    features = extract(run, settings)  # cached by the pca step
    start = time.perf_counter()
    rows, _, hit = projection(run, settings, "umap", dict(UMAP_PARAMS), features)
    return {"umap_seconds": round(time.perf_counter() - start, 2), "points": int(len(rows)),
            "from_cache": hit}


PRELOADED = {"load_first": ["core.data.dataset"], "load_cached": ["core.data.dataset"],
             "train_cnn": ["core.training.runner"], "train_ae": ["core.training.runner"],
             "evaluate": ["core.evaluation.classification"],
             "anomaly": ["core.anomaly.scores", "core.data.dataset"],
             "pca": ["core.latent.projection"], "umap": ["core.latent.projection"]}
STEPS = {"load_first": load, "load_cached": load, "train_cnn": train_cnn, "train_ae": train_ae,
         "evaluate": evaluate, "anomaly": anomaly, "pca": pca, "umap": umap}


def main(argv: list[str]) -> int:
    step, spec = argv
    settings = Settings.from_env()
    settings.workspace.mkdir(parents=True, exist_ok=True)
    for module in PRELOADED[step]:  # out of the clock (see the docstring), and out of load's RSS
        importlib.import_module(module)
    start = time.perf_counter()
    notes = STEPS[step](spec, settings)
    seconds = time.perf_counter() - start
    rss = own_peak_rss_mib()
    print(json.dumps({"seconds": seconds, "peak_rss_mib": rss, "notes": notes}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
