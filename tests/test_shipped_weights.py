"""The shipped runs load read-only, match their manifest, and are good at their jobs on digits."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score

from core.data.dataset import load_dataset
from core.errors import UserError
from core.inference import load_model
from core.runs.store import open_store
from core.shipping import SHIPPED, verify


@pytest.fixture
def shipped(settings) -> dict:
    return {r.id: r for r in open_store(settings).list() if r.read_only}


def test_every_shipped_run_is_listed_read_only_and_matches_its_manifest(settings, shipped) -> None:
    assert set(shipped) == set(SHIPPED)
    assert verify(settings.shipped_dir) == []
    for run in shipped.values():
        assert run.status()["state"] == "done"
        with pytest.raises(UserError, match="shipped run"):
            run.rename("mine now")
        with pytest.raises(UserError, match="shipped run"):
            run.delete()


def test_a_changed_checkpoint_fails_verification(settings, tmp_path: Path) -> None:
    copy = tmp_path / "weights"
    shutil.copytree(settings.shipped_dir, copy)
    with open(copy / "digits-vae" / "best.pt", "ab") as f:
        f.write(b"\0")
    assert verify(copy) == [f"{copy / 'digits-vae' / 'best.pt'} does not match its sha256 in the manifest"]


def _test_images(settings):
    ds = load_dataset("digits", settings)
    idx = ds.indices("test")
    return torch.from_numpy(ds.images[idx]).float() / 255.0, ds.labels[idx]


def test_shipped_classifier_is_accurate_on_the_test_split(settings, shipped) -> None:
    model, state = load_model(shipped["digits-classifier"])
    x, y = _test_images(settings)
    with torch.no_grad():
        predicted = model(x).argmax(1).numpy()
    assert accuracy_score(y, predicted) >= 0.98
    assert state["classes"] == [str(i) for i in range(10)]


@pytest.mark.parametrize("name", ["digits-conv-ae", "digits-denoising-ae", "digits-vae",
                                  "digits-anomaly-ae"])
def test_shipped_autoencoders_reconstruct_test_digits(settings, shipped, name: str) -> None:
    model, _ = load_model(shipped[name])
    x, _ = _test_images(settings)
    with torch.no_grad():
        out = model(x)
        recon = out[0] if isinstance(out, tuple) else out
    mse = float(((recon - x) ** 2).mean())
    baseline = float(((x.mean(0, keepdim=True) - x) ** 2).mean())  # predicting the mean image
    assert mse < 0.35 * baseline
    assert np.isfinite(mse)
