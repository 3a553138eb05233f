"""Hostile files behind the MNIST (IDX), Kuzushiji-49 (.npz) and CIFAR (pickle) sources, specs
and steps: each gets one clear line naming the file and the problem, memory stays bounded,
nothing half-written is left, and a normal load works afterwards."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.data.archive import extract_zip
from core.data.dataset import load_dataset
from core.data.spec import DatasetSpec
from core.errors import DatasetError
from tests import data_writers as dw
from tests.hostile import MAX_PEAK_MIB, assert_one_line, load_in_subprocess, tree

IMAGES = "train-images-idx3-ubyte"


def _mnist_with_gz_images(data_root: Path, gz_writer) -> Path:
    """Real MNIST IDX files, except the train images: only their .gz, written by gz_writer."""
    info = dw.write_mnist_idx(data_root)
    raw = info["raw_dir"]
    (raw / IMAGES).unlink()
    gz_writer(raw / f"{IMAGES}.gz")
    return raw


# -- IDX .gz: read in place, capped by the header; nothing written beside the user's files ------
def test_gz_bomb_is_cut_at_the_declared_size_with_bounded_memory(settings, data_root) -> None:
    raw = _mnist_with_gz_images(data_root, lambda p: dw.write_idx_gz_bomb(p, (30, 28, 28)))
    before = tree(raw)
    out = load_in_subprocess(f"mnist?root={data_root}", settings.workspace, data_root)
    assert_one_line(out["error"], f"{IMAGES}.gz", "more data than its header declares")
    assert out["peak_mib"] < MAX_PEAK_MIB
    assert tree(raw) == before  # no IDX file, no temporary left beside it


def test_gz_declaring_more_than_the_limit_is_refused_before_reading(settings, data_root) -> None:
    raw = _mnist_with_gz_images(data_root,
                                lambda p: dw.write_idx_gz_bomb(p, (10**6, 2000, 2000), 1))
    with pytest.raises(DatasetError) as refused:
        load_dataset(f"mnist?root={data_root}", settings)
    assert_one_line(str(refused.value), f"{IMAGES}.gz", "declares", "GiB")
    assert not (raw / IMAGES).exists()


def test_zip_upload_chosen_as_mnist_cannot_inflate_a_bomb(settings, data_root, tmp_path) -> None:
    real = dw.write_mnist_idx(tmp_path / "real")["raw_dir"]
    bomb = dw.write_idx_gz_bomb(tmp_path / f"{IMAGES}.gz", (30, 28, 28))
    entries = [(f"MNIST/raw/{p.name}", p.read_bytes()) for p in sorted(real.iterdir())
               if p.name != IMAGES]
    archive = dw.write_zip_entries(tmp_path / "mnist.zip",  # two top entries: kept as they are
                                   [*entries, (f"MNIST/raw/{IMAGES}.gz", bomb.read_bytes()),
                                    ("README.txt", b"MNIST as downloaded\n")])
    folder = extract_zip(archive, settings.uploads_dir, "mnist.zip")
    before = tree(folder)
    out = load_in_subprocess(f"mnist?root={folder}", settings.workspace, data_root)
    assert_one_line(out["error"], f"{IMAGES}.gz", "more data than its header declares")
    assert out["peak_mib"] < MAX_PEAK_MIB
    assert tree(folder) == before


def test_truncated_gz_leaves_no_empty_idx_and_a_good_gz_loads_next(settings, data_root) -> None:
    good = dw.write_mnist_idx(data_root / "good", gzip_files=True)["raw_dir"]
    raw = _mnist_with_gz_images(
        data_root, lambda p: dw.write_truncated_gz(p, (good / IMAGES).read_bytes()))
    with pytest.raises(DatasetError) as refused:
        load_dataset(f"mnist?root={data_root}", settings)
    assert_one_line(str(refused.value), f"{IMAGES}.gz")
    assert not (raw / IMAGES).exists()
    shutil.copy(good / f"{IMAGES}.gz", raw / f"{IMAGES}.gz")  # the user fetches it again
    assert len(load_dataset(f"mnist?root={data_root}", settings).labels) == 40


def test_an_empty_idx_beside_its_gz_does_not_break_loading(settings, data_root) -> None:
    raw = dw.write_mnist_idx(data_root, gzip_files=True)["raw_dir"]
    (raw / IMAGES).write_bytes(b"")  # what the old loader left after a damaged .gz
    assert len(load_dataset(f"mnist?root={data_root}", settings).labels) == 40  # from the .gz
    assert (raw / IMAGES).stat().st_size == 0  # the user's files are never rewritten


def test_an_idx_shorter_than_its_header_is_named(settings, data_root) -> None:
    raw = dw.write_mnist_idx(data_root)["raw_dir"]
    (raw / IMAGES).write_bytes((raw / IMAGES).read_bytes()[:-100])
    with pytest.raises(DatasetError) as refused:
        load_dataset(f"mnist?root={data_root}", settings)
    assert_one_line(str(refused.value), IMAGES, "header declares")


# -- Kuzushiji-49 .npz ------------------------------------------------------------------------------
def _k49_labels(data_root: Path, labels) -> None:
    dw.write_k49(data_root)
    np.savez_compressed(data_root / "k49-train-labels.npz", arr_0=labels)


@pytest.mark.parametrize("labels, problem", [
    (np.r_[np.zeros(59, np.int64), 50_000_000], "label 50000000 is out of range"),
    (np.r_[np.zeros(59, np.int64), -3], "negative label -3"),
    (np.r_[np.zeros(59), np.nan], "must be integers, not NaN float64"),
    (np.zeros((60, 2), np.uint8), "must be a 1-D list"),
    (np.zeros(61, np.uint8), "60 images but 61 labels"),
], ids=["huge", "negative", "nan", "2d", "count"])
def test_k49_bad_labels_are_refused_at_once(settings, data_root, labels, problem) -> None:
    _k49_labels(data_root, labels)
    with pytest.raises(DatasetError) as refused:
        load_dataset(f"k49?root={data_root}", settings)
    assert_one_line(str(refused.value), problem)
    assert "k49-train" in str(refused.value)


@pytest.mark.parametrize("images, problem", [
    (np.zeros((60, 28, 28), np.float32), "must be uint8"),
    (np.zeros((0, 28, 28), np.uint8), "no images"),
    (np.zeros((60, 784), np.uint8), "expected 3 axes"),
], ids=["float", "empty", "flat"])
def test_k49_bad_images_are_refused(settings, data_root, images, problem) -> None:
    dw.write_k49(data_root)
    np.savez_compressed(data_root / "k49-train-imgs.npz", arr_0=images)
    with pytest.raises(DatasetError) as refused:
        load_dataset(f"k49?root={data_root}", settings)
    assert_one_line(str(refused.value), "k49-train-imgs.npz", problem)


def test_k49_npz_declaring_a_huge_array_is_refused_from_its_header(settings, data_root) -> None:
    dw.write_k49(data_root)
    dw.write_npz_declaring(data_root / "k49-train-labels.npz", (50_000_000_000,))
    out = load_in_subprocess(f"k49?root={data_root}", settings.workspace, data_root)
    assert_one_line(out["error"], "k49-train-labels.npz", "declares")
    assert out["peak_mib"] < MAX_PEAK_MIB
    dw.write_k49(data_root)
    assert len(load_dataset(f"k49?root={data_root}", settings).labels) == 80  # usable again


# -- CIFAR pickle batches ------------------------------------------------------------------------
def _cifar_batch(data_root: Path) -> Path:
    dw.write_cifar(data_root, "cifar10", n_per_class=2)
    return data_root / "cifar-10-batches-py" / "data_batch_2"


@pytest.mark.parametrize("change, problem", [
    (lambda e: {"labels": e["labels"][:-1]}, "images but"),
    (lambda e: {"labels": [-1] + e["labels"][1:]}, "negative label -1"),
    (lambda e: {"labels": [10] + e["labels"][1:]}, "label 10 is out of range"),
    (lambda e: {"labels": [float("nan")] + e["labels"][1:]}, "NaN"),
    (lambda e: {"labels": [[y] for y in e["labels"]]}, "1-D"),
    (lambda e: {"data": e["data"].astype(np.float64)}, "must be uint8"),
    (lambda e: {"data": e["data"][:, :100]}, "rows have 100 values"),
    (lambda e: {"data": None}, "no data entry"),
    (lambda e: {"labels": None}, "no labels or fine_labels entry"),
], ids=["fewer-labels", "negative", "range", "nan", "2d", "float", "row", "no-data", "no-labels"])
def test_cifar_bad_batches_are_refused_not_shifted(settings, data_root, change, problem) -> None:
    import pickle

    batch = _cifar_batch(data_root)
    with open(batch, "rb") as f:
        entry = pickle.load(f, encoding="latin1")
    dw.rewrite_cifar_batch(batch, **change(entry))
    with pytest.raises(DatasetError) as refused:
        load_dataset(f"cifar10?root={data_root}", settings)
    assert_one_line(str(refused.value), "data_batch_2", problem)


def test_cifar_batch_that_is_not_a_dict_is_named(settings, data_root) -> None:
    import pickle

    batch = _cifar_batch(data_root)
    batch.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(DatasetError) as refused:
        load_dataset(f"cifar10?root={data_root}", settings)
    assert_one_line(str(refused.value), "data_batch_2", "not a dict")


# -- specs and steps -----------------------------------------------------------------------------
@pytest.mark.parametrize("text, problem", [
    ("digits?seed=-1", "seed must be between"),
    ("digits?%zz", "malformed dataset spec"),
    ("digits?a&b", "malformed dataset spec"),
    ('{"source": "digits", "seed": "x"}', "bad dataset option"),
    ("{not json", "not valid JSON"),
    ('["digits"]', "unknown source"),
    ("digits?steps=adaptive_threshold:nan", "finite numbers"),
    ("digits?steps=adaptive_threshold:11:900", "between -255 and 255"),
    ("digits?steps=" + ",".join(["invert"] * 21), "at most 20"),
], ids=["seed", "percent", "no-equals", "json-seed", "json-broken", "list", "nan", "offset",
        "too-many-steps"])
def test_bad_specs_and_steps_are_one_line(settings, text, problem) -> None:
    with pytest.raises(DatasetError) as refused:
        load_dataset(text, settings)
    assert_one_line(str(refused.value), problem)


def test_json_spec_is_accepted_wherever_text_is(settings) -> None:
    spec = DatasetSpec.from_text('{"source": "digits", "classes": ["1", "7"], "seed": 3}')
    assert spec == DatasetSpec.from_text("digits?classes=1,7&seed=3")
    assert load_dataset(spec.to_json(), settings).classes == ("1", "7")


def test_steps_that_blank_every_image_warn(settings) -> None:
    ds = load_dataset("digits?steps=adaptive_threshold:11:-255", settings)
    assert len(ds.warnings) == 1
    assert_one_line(ds.warnings[0], "entirely black (0)", "of 1,797 images")
    assert load_dataset("digits?steps=adaptive_threshold:11:2", settings).warnings == ()
