"""Latent space: projections cached, the disputable rule, training-label cluster names, generation."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.data.dataset import ImageDataset, load_dataset
from core.data.spec import DatasetSpec
from core.errors import UserError
from core.inference import load_model
from core.latent.clusters import mixture_clusters
from core.latent.features import Features, extract, sample_rows
from core.latent.generation import decode_between
from core.latent.geometry import LatentSpace, class_centres, disputable, lowest_margin, margins, nearest_rows
from core.latent.projection import _project, projection, projection_frame
from core.models import Kind
from core.runs.store import open_store
from core.training.config import run_config

REPO = Path(__file__).resolve().parent.parent


def test_pca_projection_has_the_right_shape_and_is_cached(settings) -> None:
    run = open_store(settings).get("digits-vae")
    features = extract(run, settings)
    assert features.codes.shape == (1797, 16) and features.proba is None
    rows, xy, hit = projection(run, settings, "pca", features=features)
    assert xy.shape == (1797, 2) and np.array_equal(rows, np.arange(1797)) and not hit
    rows2, xy2, hit2 = projection(run, settings, "pca", features=features)
    assert hit2 and np.array_equal(xy, xy2)
    classifier = extract(open_store(settings).get("digits-classifier"), settings)
    assert classifier.proba.shape == (1797, 10) and classifier.layer == "penultimate layer"


def test_tsne_and_big_sets_are_sampled_with_a_stated_size(settings) -> None:
    rows = sample_rows(25_000, max_points=10_000, seed=1)
    assert len(rows) == 10_000 and np.all(np.diff(rows) > 0)
    assert np.array_equal(rows, sample_rows(25_000, max_points=10_000, seed=1))
    codes = np.random.default_rng(0).normal(size=(200, 16))
    xy = _project(codes, "tsne", {"perplexity": 20}, seed=0)  # the same call projection() makes
    assert xy.shape == (200, 2) and np.isfinite(xy).all()
    with pytest.raises(UserError, match="too few"):
        _project(codes[:3], "pca", {}, seed=0)
    run = open_store(settings).get("digits-conv-ae")
    with pytest.raises(UserError, match="unknown projection"):
        projection(run, settings, "isomap")


def test_disputable_rule_on_constructed_codes() -> None:
    # centres at (0,0) and (10,0); a point at (5,0) is equally far from both, (1,0) is clearly 0
    codes = np.array([[0.0, 0], [10, 0], [5, 0], [1, 0], [5.5, 0], [9, 0]])
    labels = np.array([0, 1, 0, 0, 1, 1])
    centres = np.array([[0.0, 0], [10, 0]])
    d = disputable(codes, labels, centres, tol=0.25, mode="ratio")
    assert d.rows.tolist() == [2, 4]  # 5 vs 5 (ratio 1.0) first, then 4.5 vs 5.5
    assert d.own[2] == pytest.approx(5) and d.other[2] == pytest.approx(5) and d.other_class[2] == 1
    diff = disputable(codes, labels, centres, tol=1.5, mode="difference")
    assert diff.rows.tolist() == [2, 4]  # |5-5| = 0 and |4.5-5.5| = 1
    with pytest.raises(UserError, match="two classes"):
        disputable(codes, np.zeros(6, int), np.array([[0.0, 0], [np.nan, np.nan]]), 0.2)


def test_margins_and_nearest_rows() -> None:
    proba = np.array([[0.9, 0.1], [0.55, 0.45], [0.3, 0.7]])
    assert lowest_margin(proba).tolist() == [1, 2, 0]
    np.testing.assert_allclose(margins(proba), [0.8, 0.1, 0.4])
    codes = np.array([[0.0, 0], [3, 3], [10, 10]])
    assert nearest_rows(codes, np.array([[2.5, 2.0], [9.0, 9.0]])).tolist() == [1, 2]


def test_clusters_are_named_by_training_labels_only() -> None:
    rng = np.random.default_rng(0)
    train = np.r_[rng.normal(0, 0.3, (100, 4)), rng.normal(5, 0.3, (100, 4))]
    train_labels = np.r_[np.zeros(100, int), np.ones(100, int)]
    test = np.r_[rng.normal(0, 0.3, (30, 4)), rng.normal(5, 0.3, (30, 4))]
    # Test labels deliberately swapped: names must still come from the training codes, so the
    # naming scores 0 on this test set instead of being "fixed" by peeking at test labels.
    swapped = np.r_[np.ones(30, int), np.zeros(30, int)]
    clusters = mixture_clusters(train, train_labels, test, swapped, ("a", "b"), n_components=2)
    assert sorted(clusters.names) == ["a", "b"]
    assert clusters.report["accuracy"] == 0.0
    honest = mixture_clusters(train, train_labels, test, 1 - swapped, ("a", "b"), max_components=4)
    assert honest.report["accuracy"] == 1.0 and honest.n_components in honest.bic
    # every code gets the name of its component; the table counts each split's codes
    names = honest.component_names(test)
    assert names.tolist() == [f"cluster {c} · {honest.names[c]}" for c in honest.components(test)]
    named = [n.split(" · ")[1] for n in names]
    assert set(named[:30]) == {"a"} and set(named[30:]) == {"b"}
    table = honest.table()
    assert list(table.columns) == ["cluster", "named as", "train images", "test images"]
    assert table["named as"].tolist() == honest.names
    assert table["train images"].sum() == 200 and table["test images"].sum() == 60


def small_space(proba: np.ndarray | None = None) -> LatentSpace:
    """Six images in two classes on a line: train 0-3, val 4, test 5-7 (2-D codes)."""
    codes = np.array([[0.0, 0], [2, 0], [10, 0], [12, 0], [1, 0], [5, 0], [9, 0], [4, 0]],
                     dtype=np.float32)
    labels = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    split = np.array([0, 0, 0, 0, 1, 2, 2, 2], dtype=np.int8)
    ds = ImageDataset(DatasetSpec(), np.zeros((8, 1, 2, 2), np.uint8), labels, ("a", "b"), split)
    return LatentSpace(ds, Features(codes, proba, Kind.CLASSIFIER if proba is not None
                                    else Kind.AUTOENCODER, "code"))


def test_latent_space_centres_and_distances_use_training_codes() -> None:
    space = small_space()
    np.testing.assert_allclose(space.centres, [[1.0, 0], [11, 0]])  # train rows only
    np.testing.assert_allclose(space.own_distance, [1, 1, 1, 1, 0, 4, 2, 7])
    assert space.split_names().tolist() == ["train"] * 4 + ["val"] + ["test"] * 3
    assert not space.classifier and space.predicted is None
    assert space.tolerance_max("ratio") == 1.0
    assert space.tolerance_max("difference") == 4.0  # median of 4, 2, 7
    rows, d = space.disputable_test([0, 1], tol=1.0, mode="ratio")
    assert rows.tolist() == [5, 6, 7]
    expected = disputable(space.features.codes[rows], space.labels[rows], space.centres, 1.0)
    # |1 - own/other|: row 5 (4 vs 6) 0.33, row 6 (2 vs 8) 0.75, row 7 (7 vs 3) 1.33
    assert rows[d.rows].tolist() == rows[expected.rows].tolist() == [5, 6]
    with pytest.raises(UserError, match="two classes"):  # only class 0's centre to compare with
        space.disputable_test([0], tol=0.5)
    one_class_absent = small_space()
    one_class_absent.ds.split[2:4] = 1  # class b has no training images: no centre
    assert np.isnan(one_class_absent.centres[1]).all()
    assert space.has_centre.tolist() == [True, True]
    assert one_class_absent.has_centre.tolist() == [True, False]


def test_latent_space_margins_and_mistakes_for_a_classifier() -> None:
    proba = np.array([[0.9, 0.1]] * 5 + [[0.4, 0.6], [0.3, 0.7], [0.55, 0.45]])
    space = small_space(proba)
    assert space.classifier and space.predicted.tolist() == [0] * 5 + [1, 1, 0]
    assert space.lowest_margin_test().tolist() == [7, 5, 6]  # margins 0.1, 0.2, 0.4
    assert space.misclassified_test().tolist() == [5, 7]  # 5 is a -> b (0.6), 7 is b -> a (0.55)


def test_decoded_class_centres_are_recognised_by_the_shipped_classifier(settings) -> None:
    store = open_store(settings)
    vae, classifier = store.get("digits-vae"), store.get("digits-classifier")
    ds = load_dataset("digits", settings)
    train = ds.indices("train")
    codes = extract(vae, settings, ds).codes
    centres = class_centres(codes[train], ds.labels[train], 10)
    decoder, _ = load_model(vae)
    clf, _ = load_model(classifier)
    with torch.no_grad():
        predicted = clf(decoder.decode(torch.from_numpy(centres).float())).argmax(1)
    assert predicted.tolist() == list(range(10))


def test_generation_between_two_centres(settings) -> None:
    store = open_store(settings)
    vae, classifier = store.get("digits-vae"), store.get("digits-classifier")
    ds = load_dataset("digits", settings)
    train = ds.indices("train")
    codes = extract(vae, settings, ds).codes[train]
    strip = decode_between(vae, codes, ds.labels[train], 10, 3, 8, 9, classifier)
    assert strip.images.shape == (9, 1, 8, 8) and strip.images.dtype == np.uint8
    assert strip.proba[0, 3] > 0.5 and strip.proba[-1, 8] > 0.5  # ends look like their class
    gaps = np.abs(strip.proba[:, 3] - strip.proba[:, 8])
    assert gaps[strip.ambiguous[0]] == gaps.min()
    with pytest.raises(UserError, match="no decoder"):
        decode_between(classifier, codes, ds.labels[train], 10, 3, 8, 5)
    with pytest.raises(UserError, match="two different classes"):
        decode_between(vae, codes, ds.labels[train], 10, 3, 3, 5)


def test_cli_embed_and_disputable(settings, tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "core", "embed", "digits-conv-ae", "--method", "pca",
                          "--json"], cwd=REPO, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["points"] == 1797 and len(info["xy"]) == 1797
    csv = tmp_path / "disputable.csv"
    out = subprocess.run([sys.executable, "-m", "core", "disputable", "digits-classifier", "--tol",
                          "0.1", "--csv", str(csv)], cwd=REPO, capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr
    header = csv.read_text().splitlines()[0]
    assert header == "index,class,other_class,d_own,d_other,ratio"


def test_projection_csv_has_one_row_per_drawn_point(settings) -> None:
    run = open_store(settings).get("digits-vae")
    ds = load_dataset(run_config(run).dataset, settings)
    features = extract(run, settings, ds)
    rows, xy, _ = projection(run, settings, "pca", {}, features)
    space = LatentSpace(ds, features)
    frame = projection_frame(space, rows, xy)
    assert list(frame.columns) == ["id", "split", "x", "y", "class", "distance_to_centre"]
    assert frame["id"].tolist() == rows.tolist() and len(frame) == 1797
    np.testing.assert_allclose(frame[["x", "y"]].to_numpy(), xy)
    assert (frame["class"] == np.asarray(ds.classes)[ds.labels[rows]]).all()
    assert frame.loc[frame["split"] == "test", "id"].tolist() == ds.indices("test").tolist()
    assert (frame["distance_to_centre"] > 0).all()


def test_projection_csv_of_a_classifier_with_clusters() -> None:
    proba = np.array([[0.9, 0.1]] * 5 + [[0.4, 0.6], [0.3, 0.7], [0.55, 0.45]])
    space = small_space(proba)
    rows = np.array([7, 0, 5])
    xy = np.arange(6, dtype=np.float32).reshape(3, 2)
    frame = projection_frame(space, rows, xy, clusters=np.array(["c0", "c1", "c0"], dtype=object))
    assert list(frame.columns) == ["id", "split", "x", "y", "class", "predicted", "cluster",
                                   "distance_to_centre"]
    assert frame["split"].tolist() == ["test", "train", "test"]
    assert frame["class"].tolist() == ["b", "a", "a"] and frame["predicted"].tolist() == ["a", "a", "b"]
    assert frame["cluster"].tolist() == ["c0", "c1", "c0"]
    np.testing.assert_allclose(frame["distance_to_centre"], [7, 1, 4])
