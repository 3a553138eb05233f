"""Watch it learn: the probe set's answers per epoch, and the film strip aligned across epochs."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from core.errors import UserError
from core.latent import film
from core.runs.metrics import RecordType
from core.runs.store import RunStore
from core.training.config import TrainConfig, run_config
from core.training.probes import PER_CLASS, choose_probes
from core.training.runner import train_run


def test_probes_are_stratified_and_fixed_by_the_seed() -> None:
    labels = np.repeat(np.arange(5), [3, 10, 1, 8, 8])
    probe, extra = choose_probes(labels, seed=3, extra=7)
    counts = np.bincount(labels[probe], minlength=5)
    assert counts.tolist() == [2, 2, 1, 2, 2]  # a class with one image gives the one it has
    assert len(extra) == 7 and not set(extra) & set(probe)
    again = choose_probes(labels, seed=3, extra=7)
    assert np.array_equal(again[0], probe) and np.array_equal(again[1], extra)


def test_a_classifier_run_saves_its_answers_each_epoch(tmp_path: Path) -> None:
    run = RunStore(tmp_path / "runs").create(TrainConfig(
        dataset="digits", model="mlp", model_params={"hidden": [16]}, epochs=2, schedule="none"))
    state, trainer = train_run(run, run_config(run))
    assert state == "done" and film.epochs(run.path) == [1, 2]
    probes = film.probe_set(run.path)
    assert np.bincount(probes.labels).tolist() == [PER_CLASS] * 10
    last = film.answers(run.path, 2)
    with torch.no_grad():  # the final model's softmax on the probe images, recomputed here
        trainer.model.eval()
        proba = torch.softmax(trainer.model(torch.from_numpy(probes.images).float() / 255), 1)
    assert np.array_equal(last["predicted"], proba.argmax(1).numpy())
    assert np.allclose(last["confidence"], proba.max(1).values.numpy(), rtol=1e-5, atol=1e-6)
    # the film strip: the final epoch is its own PCA, earlier epochs are in that basis
    strip = film.film_strip(run.path)
    assert strip.xy.shape == (2, len(last["codes"]), 2) and strip.n_probe == 20
    pca = PCA(n_components=2, random_state=0).fit(last["codes"].astype(np.float64))
    assert np.allclose(strip.xy[-1], pca.transform(last["codes"]), rtol=1e-5, atol=1e-5)
    assert np.allclose(strip.xy[0], pca.transform(film.answers(run.path, 1)["codes"]), rtol=1e-5,
                       atol=1e-5)
    assert np.array_equal(strip.labels[:20], probes.labels)
    for record in run.metrics():  # what watching cost, recorded with each epoch
        if record["type"] == RecordType.EPOCH:
            assert 0 < record["probe_seconds"] < record["seconds"] + 1.0


def test_an_autoencoder_run_saves_reconstructions(tmp_path: Path) -> None:
    run = RunStore(tmp_path / "runs").create(TrainConfig(
        dataset="digits", model="mlp_ae", epochs=1, schedule="none"))
    state, _ = train_run(run, run_config(run))
    assert state == "done"
    probes, first = film.probe_set(run.path), film.answers(run.path, 1)
    assert first["reconstructions"].shape == probes.images.shape
    assert first["reconstructions"].dtype == np.uint8
    assert film.film_strip(run.path).xy.shape[0] == 1


def test_a_run_without_probes_has_no_film(tmp_path: Path) -> None:
    assert film.probe_set(tmp_path) is None and film.film_strip(tmp_path) is None
    (tmp_path / "probes").mkdir()
    (tmp_path / "probes" / "epoch-0001.npz").write_bytes(b"not a zip")
    assert film.epochs(tmp_path) == [1]
    with pytest.raises(UserError, match="cannot be read"):
        film.answers(tmp_path, 1)


def test_runs_page_replays_answers_and_film(settings) -> None:
    from core.runs.store import open_store
    from tests.apptest_helpers import open_page

    run = open_store(settings).create(TrainConfig(
        dataset="digits", model="mlp", model_params={"hidden": [16]}, epochs=2, schedule="none",
        name="watched"))
    assert train_run(run, run_config(run))[0] == "done"
    at = open_page("runs", runs=run.id)
    slider = at.select_slider(key=f"replay_epoch_{run.id}")
    assert slider.value == 2 and list(slider.options) == ["1", "2"]
    assert any("After epoch 2:" in (i.proto.imgs[0].caption if i.proto.imgs else "")
               for i in at.get("image"))
    film_chart = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"film_{run.id}")]
    assert len(film_chart) == 1
    slider.set_value(1).run()
    assert not at.exception
    cursor = next(c for c in at.get("plotly_chart") if c.proto.id.endswith(f"replay_cursor_{run.id}"))
    assert [s["x0"] for s in json.loads(cursor.proto.spec)["layout"]["shapes"]] == [1]
    assert any("After epoch 1:" in (i.proto.imgs[0].caption if i.proto.imgs else "")
               for i in at.get("image"))
