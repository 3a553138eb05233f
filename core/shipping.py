"""The shipped runs in weights/: what they are, and the one command that regenerates them.

    python -m core ship            # retrain all of them on digits and rewrite weights/

Each shipped run is an ordinary run folder (config, status, metrics, best.pt) that the store lists
read-only; manifest.json records each one's config, final metrics and files' sha256. A run trained
on normal classes only also ships a saved threshold (threshold-mse.json: max F1 on validation,
with its provenance), so `predict digits-anomaly-ae FRAMES` works on a fresh clone.

    python -m core ship --thresholds   # only (re)write those records, without retraining
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from core.errors import UserError
from core.io.atomic import load_json_object, write_json
from core.runs.status import RunState
from core.runs.store import Run, RunStore
from core.training.config import TrainConfig
from core.training.runner import train_run

SHIPPED: dict[str, TrainConfig] = {
    "digits-classifier": TrainConfig(model="default_cnn", epochs=20, seed=0,
                                     name="Digits classifier (default CNN)"),
    "digits-conv-ae": TrainConfig(model="conv_ae", epochs=30, lr=3e-3, seed=0,
                                  name="Digits conv autoencoder"),
    "digits-denoising-ae": TrainConfig(model="conv_ae", epochs=30, lr=3e-3, denoise="gaussian:0.3",
                                       seed=0, name="Digits denoising autoencoder"),
    "digits-vae": TrainConfig(model="vae", epochs=40, lr=3e-3, seed=0, name="Digits VAE",
                              loss_params={"beta": 0.5}),
    # Normal-only training for the Anomaly page: 9 is the anomaly, as one letter was in seed 000.
    "digits-anomaly-ae": TrainConfig(model="conv_ae", epochs=30, lr=3e-3, denoise="gaussian:0.3",
                                     normal_classes=tuple("012345678"), seed=0,
                                     name="Digits anomaly AE (9 is the anomaly)"),
}
KEEP = ("config.json", "status.json", "metrics.jsonl", "best.pt", "meta.json")
SHIPPED_SCORE, SHIPPED_STRATEGY = "mse", "f1"  # the threshold an anomaly run ships with


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ship(out_dir: Path, names: list[str] | None = None, echo=print) -> dict:
    """Train the shipped configs and write them (and the manifest) into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / "manifest.json"
    manifest = load_json_object(manifest_path) if manifest_path.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp))
        for name in names or list(SHIPPED):
            config = SHIPPED[name]
            echo(f"training {name}: {config.model} on {config.dataset}")
            run = store.create(config)
            state, trainer = train_run(run, config)
            if state != RunState.DONE:
                raise RuntimeError(f"{name} ended {state}; not shipped")
            target = out_dir / name
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            for file in KEEP:
                if (run.path / file).exists():
                    shutil.copy2(run.path / file, target / file)
            status = json.loads((target / "status.json").read_text())
            for private in ("pid", "host", "heartbeat"):  # machine-specific, meaningless shipped
                status.pop(private, None)
            write_json(target / "status.json", status)
            last_epoch = [m for m in run.metrics() if m.get("type") == "epoch"][-1]
            manifest[name] = {"config": config.to_dict(), "final_epoch": last_epoch,
                              "best_metric": trainer.best_metric, "monitor": trainer.monitor,
                              "n_parameters": trainer.n_parameters,
                              "sha256": {"best.pt": sha256(target / "best.pt")}}
            echo(f"  {name}: best {trainer.monitor} {trainer.best_metric:.4f}")
            _ship_threshold(out_dir, name, manifest, echo)
    write_json(manifest_path, manifest)
    return manifest


def ship_thresholds(out_dir: Path, names: list[str] | None = None, echo=print) -> dict:
    """(Re)write the saved threshold of each shipped anomaly run (trained on normal classes
    only) from its shipped weights, without retraining, and its checksum in the manifest."""
    manifest_path = out_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for name in names or list(SHIPPED):
        if name not in manifest:
            raise UserError(f"{name} is not in {manifest_path}; ship it first")
        _ship_threshold(out_dir, name, manifest, echo)
    write_json(manifest_path, manifest)
    return manifest


def _ship_threshold(out_dir: Path, name: str, manifest: dict, echo) -> None:
    from core.anomaly.decide import decide
    from core.anomaly.record import Author, save_record
    from core.settings import Settings

    if not SHIPPED[name].normal_classes:
        return  # trained on every class: its normal classes are the user's to choose
    decision = decide(Run(out_dir / name, read_only=True), Settings.from_env(), SHIPPED_SCORE,
                      SHIPPED_STRATEGY, by=Author.SHIP)
    file = f"threshold-{SHIPPED_SCORE}.json"
    save_record(decision.record, out_dir / name / file)
    manifest[name]["sha256"][file] = sha256(out_dir / name / file)
    echo(f"  {name}: saved threshold {decision.record.describe()}")


def verify(out_dir: Path) -> list[str]:
    """Problems with the shipped files (missing, or a checksum that does not match)."""
    manifest = load_json_object(out_dir / "manifest.json")  # bounded, regular file only
    problems = []
    for name, entry in manifest.items():
        for file, digest in entry["sha256"].items():
            path = out_dir / name / file
            if not path.exists():
                problems.append(f"{path} is missing")
            elif sha256(path) != digest:
                problems.append(f"{path} does not match its sha256 in the manifest")
    return problems
