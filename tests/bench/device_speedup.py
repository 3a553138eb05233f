"""Training speed on CUDA vs CPU with the real engine (run where a GPU exists; not in the suite).

    python -m tests.bench.device_speedup [--epochs 2]

Trains the same configs through core.training.runner.train_run on each available device and
prints images/s per epoch (median over epochs after the first, which includes warm-up) and the
speedup. Data: digits, and a generated 60,000 x 28 x 28 IDX set read through the mnist source.
Each config also runs with bf16 autocast and with channels_last on the fastest device, as a
ratio to the same run in fp32 / NCHW on that device (`--no-variants` skips them).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from core.runs.store import RunStore
from core.training.config import TrainConfig
from core.training.runner import train_run
from tests import data_writers as dw


def make_mnist_like(root: Path, n_train: int = 60_000, n_test: int = 10_000) -> str:
    rng = np.random.default_rng(0)
    raw = root / "MNIST" / "raw"
    labels = rng.integers(0, 10, n_train + n_test).astype(np.uint8)
    images = dw.pattern_images(labels, 10, (28, 28), rng)
    dw.write_idx_images(raw / "train-images-idx3-ubyte", images[:n_train])
    dw.write_idx_labels(raw / "train-labels-idx1-ubyte", labels[:n_train])
    dw.write_idx_images(raw / "t10k-images-idx3-ubyte", images[n_train:])
    dw.write_idx_labels(raw / "t10k-labels-idx1-ubyte", labels[n_train:])
    return f"mnist?root={root}"


def measure(config: TrainConfig, workspace: Path) -> dict:
    store = RunStore(workspace / "runs")
    run = store.create(config)
    start = time.perf_counter()
    state, trainer = train_run(run, config)
    wall = time.perf_counter() - start
    epochs = [m for m in run.metrics() if m["type"] == "epoch"]
    steady = [m["images_per_s"] for m in epochs[1:]] or [epochs[0]["images_per_s"]]
    return {"state": state, "wall_s": wall, "images_per_s": statistics.median(steady),
            "val": epochs[-1].get("val_acc", epochs[-1].get("val_loss"))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--no-variants", action="store_true",
                        help="skip the bf16 and channels_last runs")
    args = parser.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}; devices: {devices}; "
          f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'}")
    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ["DASH_WORKSPACE"] = str(Path(tmp) / "ws")
        mnist = make_mnist_like(Path(tmp) / "data")
        configs = {
            "default_cnn digits bs64": TrainConfig(model="default_cnn", epochs=args.epochs),
            "default_cnn 60k bs256": TrainConfig(dataset=mnist, model="default_cnn", batch_size=256,
                                                 epochs=args.epochs),
            "CNN_dense 60k bs256": TrainConfig(dataset=mnist, model="CNN_dense", batch_size=256,
                                               epochs=args.epochs),
            "conv_ae 60k bs256": TrainConfig(dataset=mnist, model="conv_ae", batch_size=256,
                                             epochs=args.epochs),
        }
        print(f"{'config':<26}{'device':>8}{'img/s':>12}{'wall s':>9}{'val':>9}{'speedup':>9}")
        for name, config in configs.items():
            base = None
            for device in devices:
                r = measure(replace(config, device=device), Path(tmp) / "ws")
                base = base or r["images_per_s"]
                print(f"{name:<26}{device:>8}{r['images_per_s']:>12,.0f}{r['wall_s']:>9.1f}"
                      f"{r['val']:>9.4f}{r['images_per_s'] / base:>8.1f}x", flush=True)
            if args.no_variants:
                continue
            device, fp32 = devices[-1], r["images_per_s"]  # vs fp32 NCHW on the same device
            for label, variant in (("bf16", {"precision": "bf16"}),
                                   ("channels_last", {"channels_last": True}),
                                   ("bf16+chlast", {"precision": "bf16", "channels_last": True})):
                v = measure(replace(config, device=device, **variant), Path(tmp) / "ws")
                print(f"{name + ' ' + label:<26}{device:>8}{v['images_per_s']:>12,.0f}"
                      f"{v['wall_s']:>9.1f}{v['val']:>9.4f}{v['images_per_s'] / fp32:>8.2f}x fp32",
                      flush=True)


if __name__ == "__main__":
    main()
