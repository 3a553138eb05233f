"""Predict benchmarks, each against a baseline measured in the same run.

predict_throughput  images/s of predict_images (the code `python -m core predict` runs) on 10,000
                    28x28 images of a conv autoencoder run, against the bare model forward on the
                    same images and batch size, interleaved; and on the same images as PNG files
                    (decoding included). Goal: predict >= 0.8 of the bare forward, reported as
                    predict/bare seconds <= 1.25 (the table only knows upper bounds).
predict_memory      peak RSS of `python -m core predict` on a folder of 50,000 28x28 PNGs against
                    the same command on 5,000: memory follows the batch size, not the folder size
                    (goal 50k/5k <= 1.25; what does grow is one name, one path and one score per file).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tests.bench.common import Figure, env_vars, timed, tmp_dir
from tests.bench.training import _peak_rss_of
from tests.data_writers import pattern_images, write_mnist_idx

N_IMAGES = 10_000
BATCH = 1024
THRESHOLD = "0.05"  # a value: no validation scoring, so only predicting is measured


def _train_28px_run(root: Path):
    """A conv autoencoder trained for one epoch on 28x28 IDX digits (weights do not change speed)."""
    from core.runs.store import open_store
    from core.settings import Settings
    from core.training.config import TrainConfig
    from core.training.runner import train_run

    data = root / "data"
    write_mnist_idx(data, n_train=400, n_test=100)
    settings = Settings(workspace=root / "workspace", data_roots=(data,))
    names = ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four")  # torchvision's MNIST names
    config = TrainConfig(dataset=f"mnist?root={data}", model="conv_ae", epochs=1, batch_size=64,
                         schedule="none", normal_classes=names, name="bench 28px")
    with env_vars(DASH_WORKSPACE=str(settings.workspace), DASH_DATA_ROOTS=str(data)):
        run = open_store(settings).create(config)
        assert train_run(run, config)[0] == "done"
    return run, settings


def _write_pngs(folder: Path, images: np.ndarray) -> Path:
    from PIL import Image

    for start in range(0, len(images), 1000):
        sub = folder / f"part{start // 1000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        for i in range(start, min(start + 1000, len(images))):
            Image.fromarray(images[i, 0]).save(sub / f"{i:06d}.png", compress_level=1)
    return folder


def _generated(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return pattern_images(rng.integers(0, 10, n), 10, (28, 28), rng)[:, None]


def predict_throughput(repeats: int) -> list[Figure]:
    import torch

    from core.inference import load_model
    from core.predict.apply import predict_images
    from core.predict.detector import RunDetector
    from core.predict.inputs import InputKind, NewImages, open_input
    from core.predict.thresholds import resolve_threshold

    b = "predict_throughput"
    bare = Figure(b, f"baseline: bare conv_ae forward, {N_IMAGES:,} 28x28, b{BATCH}",
                  unit="k images/s")
    arrays = Figure(b, "predict_images on the arrays (mse, decisions)", unit="k images/s",
                    baseline=bare.name)
    ratio = Figure(b, "predict/bare seconds (pairs)", unit="x", goal=1.25)
    pngs = Figure(b, f"predict_images on {N_IMAGES:,} PNG files (decoding)", unit="k images/s",
                  baseline=bare.name)
    with tmp_dir("predict") as tmp:
        run, settings = _train_28px_run(tmp)
        detector = RunDetector(run, settings)
        choice = resolve_threshold(detector, "mse", THRESHOLD)
        images = _generated(N_IMAGES)
        in_memory = NewImages([str(i) for i in range(N_IMAGES)], InputKind.DATASET, "generated",
                              arrays=images)
        files = open_input(str(_write_pngs(tmp / "pngs", images)), settings, tmp, detector.recipe)
        model, _ = load_model(run)

        def forward() -> None:
            with torch.no_grad():
                for first in range(0, N_IMAGES, BATCH):
                    model(torch.from_numpy(images[first:first + BATCH]).float().div_(255.0))

        def predict(source) -> None:
            result = predict_images(detector, source, choice, batch_size=BATCH)
            assert len(result.scored) == N_IMAGES, result.errors

        forward(), predict(in_memory)  # warm-up: first calls allocate
        for _ in range(repeats):
            t_bare = timed(forward)[0]
            t_predict = timed(predict, in_memory)[0]
            t_files = timed(predict, files)[0]
            bare.values.append(N_IMAGES / t_bare / 1000)
            arrays.values.append(N_IMAGES / t_predict / 1000)
            pngs.values.append(N_IMAGES / t_files / 1000)
            ratio.values.append(t_predict / t_bare)
    return [bare, arrays, ratio, pngs]


def predict_memory(repeats: int) -> list[Figure]:
    """Fewer repeats than asked (at most 2): each runs predict on 55,000 files."""
    b = "predict_memory"
    small = Figure(b, "baseline: core predict, folder of 5,000 PNGs", unit="MiB")
    large = Figure(b, "core predict, folder of 50,000 PNGs", unit="MiB", baseline=small.name)
    ratio = Figure(b, "50,000 / 5,000 peak RSS", unit="x", goal=1.25)
    with tmp_dir("predict-mem") as tmp:
        run, settings = _train_28px_run(tmp)
        images = _generated(50_000, seed=1)
        big = _write_pngs(tmp / "big", images)
        few = _write_pngs(tmp / "few", images[:5_000])
        env = {"DASH_WORKSPACE": str(settings.workspace)}
        command = [sys.executable, "-m", "core", "predict", run.id]
        for _ in range(max(1, min(repeats, 2))):
            peaks = [_peak_rss_of([*command, str(folder), "--threshold", THRESHOLD,
                                   "--csv", str(tmp / "out.csv")], env, tmp / "predict.log")
                     for folder in (few, big)]
            small.values.append(peaks[0])
            large.values.append(peaks[1])
            ratio.values.append(peaks[1] / peaks[0])
            rows = sum(1 for _ in open(tmp / "out.csv")) - 1
            assert rows == 50_000, f"the CSV has {rows} rows"
    return [small, large, ratio]
