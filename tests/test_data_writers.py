"""The fixture writers in data_writers.py produce files that the real readers read back identically."""
from __future__ import annotations

import gzip
import pickle
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests import data_writers as dw

torchvision = pytest.importorskip("torchvision")


@pytest.mark.parametrize("folder", ["MNIST", "KMNIST", "FashionMNIST"])
@pytest.mark.parametrize("gzip_files", [False, True])
def test_mnist_idx_reads_with_torchvision(tmp_path: Path, folder: str, gzip_files: bool) -> None:
    info = dw.write_mnist_idx(tmp_path, folder=folder, gzip_files=gzip_files)
    cls = getattr(torchvision.datasets, folder)
    for split in ("train", "test"):
        ds = cls(root=str(tmp_path), train=split == "train", download=False)
        np.testing.assert_array_equal(ds.data.numpy(), info[f"{split}_images"])
        np.testing.assert_array_equal(ds.targets.numpy(), info[f"{split}_labels"])
        assert set(ds.targets.tolist()) == set(range(10))
    assert info["raw_dir"] == tmp_path / folder / "raw"
    assert (info["raw_dir"] / "train-images-idx3-ubyte.gz").exists() == gzip_files


def test_idx_helpers_large_and_gz(tmp_path: Path) -> None:
    imgs = np.zeros((60000, 28, 28), np.uint8)
    p = dw.write_idx_images(tmp_path / "imgs", imgs)
    raw = p.read_bytes()
    assert raw[:16] == b"\x00\x00\x08\x03" + (60000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    assert len(raw) == 16 + imgs.size
    lab = dw.write_idx_labels(tmp_path / "lab.gz", np.arange(5))
    assert gzip.decompress(lab.read_bytes()) == b"\x00\x00\x08\x01" + (5).to_bytes(4, "big") + bytes(range(5))


def test_images_are_class_dependent(tmp_path: Path) -> None:
    info = dw.write_mnist_idx(tmp_path, n_train=40)
    x, y = info["train_images"].astype(float), info["train_labels"]
    means = np.stack([x[y == c].mean(0) for c in range(10)])
    # nearest class-mean classifies every training image correctly
    pred = ((x[:, None] - means[None]) ** 2).sum((2, 3)).argmin(1)
    assert (pred == y).all()


@pytest.mark.parametrize("kind", ["cifar10", "cifar100"])
@pytest.mark.parametrize("encoding", ["latin1", "bytes"])
def test_cifar_pickles(tmp_path: Path, kind: str, encoding: str) -> None:
    info = dw.write_cifar(tmp_path, kind, n_per_class=2)
    key = (lambda k: k.encode()) if encoding == "bytes" else (lambda k: k)
    label_key = key("labels" if kind == "cifar10" else "fine_labels")

    def load(p: Path) -> dict:
        with open(p, "rb") as f:
            return pickle.load(f, encoding=encoding)

    batches = [p for p in info["files"] if p.name not in ("batches.meta", "meta")]
    train = [load(p) for p in batches if p.name not in ("test_batch", "test")]
    test = load(batches[-1])
    assert len(train) == (5 if kind == "cifar10" else 1)
    for split, entries in (("train", train), ("test", [test])):
        data = np.vstack([e[key("data")] for e in entries])
        assert data.dtype == np.uint8 and data.shape[1] == 3072
        np.testing.assert_array_equal(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), info[f"{split}_images"])
        labels = sum((list(e[label_key]) for e in entries), [])
        assert labels == info[f"{split}_labels"].tolist()
    meta = load(info["files"][-1])
    names = meta[key("label_names" if kind == "cifar10" else "fine_label_names")]
    names = [n.decode() if isinstance(n, bytes) else n for n in names]
    assert names == info["label_names"]
    if kind == "cifar100":
        assert len(names) == 100 and names[22] == "clock" and names[27] == "crocodile"
        assert test[key("coarse_labels")] == [dw.CIFAR100_FINE_TO_COARSE[y] for y in info["test_labels"]]
    else:
        assert names == ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def test_cifar_reads_with_torchvision_when_md5_bypassed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets.cifar as cifar_mod

    monkeypatch.setattr(cifar_mod, "check_integrity", lambda *a, **k: True)
    info = dw.write_cifar(tmp_path, "cifar100", classes=5)
    ds = torchvision.datasets.CIFAR100(root=str(tmp_path), train=True, download=False)
    np.testing.assert_array_equal(ds.data, info["train_images"])
    assert ds.targets == info["train_labels"].tolist() and set(ds.targets) == set(range(5))
    assert ds.classes[:2] == ["apple", "aquarium_fish"]


def test_k49_npz(tmp_path: Path) -> None:
    info = dw.write_k49(tmp_path)
    for split in ("train", "test"):
        with np.load(tmp_path / f"k49-{split}-imgs.npz") as z:
            assert list(z.keys()) == ["arr_0"]
            np.testing.assert_array_equal(z["arr_0"], info[f"{split}_images"])
        with np.load(tmp_path / f"k49-{split}-labels.npz") as z:
            np.testing.assert_array_equal(z["arr_0"], info[f"{split}_labels"])
    counts = np.bincount(info["train_labels"], minlength=49)
    assert counts.min() >= 1 and counts[0] > 3 * np.median(counts)
    lines = info["classmap"].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "index,codepoint,char" and lines[1] == "0,U+3042,あ" and len(lines) == 50
    assert len({line.split(",")[2] for line in lines[1:]}) == 49


@pytest.mark.parametrize("with_train_test", [False, True])
def test_image_folder(tmp_path: Path, with_train_test: bool) -> None:
    info = dw.write_image_folder(tmp_path, with_train_test=with_train_test)
    splits = ["train", "test"] if with_train_test else ["all"]
    assert list(info["n_valid"]) == splits
    for split in splits:
        for cls in ("Negative", "Positive"):
            paths = info["files"][split][cls]
            assert len(paths) == info["n_valid"][split][cls] == 4
            fmts = set()
            for p in paths:
                with Image.open(p) as im:
                    im.load()
                    assert im.size == (20, 16) and im.mode == "RGB"
                    fmts.add(im.format)
            assert fmts == {"PNG", "JPEG"}
    (broken,) = info["corrupt"]
    assert broken.read_bytes().startswith(dw.PNG_SIGNATURE)
    with pytest.raises(OSError):
        with Image.open(broken) as im:
            im.load()
    (stray,) = info["stray"]
    assert stray.suffix == ".txt" and stray.parent.name == "Negative"


def test_image_folder_odd_sizes_and_grayscale(tmp_path: Path) -> None:
    info = dw.write_image_folder(tmp_path, mode="L", odd_sizes=True, corrupt=False, stray_text=False)
    arrays = [np.asarray(Image.open(p)) for p in info["files"]["all"]["Negative"]]
    assert all(a.ndim == 2 for a in arrays) and len({a.shape for a in arrays}) == len(arrays)
    with pytest.raises(ValueError):
        np.stack(arrays)
    assert info["corrupt"] == [] and info["stray"] == []
    assert sorted(p.name for p in (tmp_path / "Negative").iterdir()) == [f"img_{i}.{e}" for i, e in
                                                                        zip(range(4), ["png", "jpg"] * 2)]


def test_zips(tmp_path: Path) -> None:
    good = zipfile.ZipFile(dw.write_good_zip(tmp_path / "good.zip"))
    names = good.namelist()
    pngs = [n for n in names if n.endswith(".png") and not n.startswith("__MACOSX/")]
    assert sorted(pngs) == [f"mydata/{c}/{c[:-1]}_{i}.png" for c in ("cats", "dogs") for i in range(3)]
    assert any(n.startswith("__MACOSX/") and "/._" in n for n in names)
    with good.open(pngs[0]) as f, Image.open(f) as im:
        im.load()

    slip = zipfile.ZipFile(dw.write_zip_slip(tmp_path / "slip.zip")).infolist()
    assert any(".." in i.filename.split("/") for i in slip)
    absolute = zipfile.ZipFile(dw.write_zip_absolute(tmp_path / "abs.zip")).infolist()
    assert any(i.filename == "/tmp/evil_abs.txt" for i in absolute)
    sym = zipfile.ZipFile(dw.write_zip_symlink(tmp_path / "sym.zip"))
    links = [i for i in sym.infolist() if stat.S_ISLNK(i.external_attr >> 16)]
    assert len(links) == 1 and links[0].create_system == 3 and sym.read(links[0]) == b"/etc/passwd"

    bomb_path = dw.write_zip_bomb(tmp_path / "bomb.zip", declared_mb=64)
    total = sum(i.file_size for i in zipfile.ZipFile(bomb_path).infolist())
    assert total > 60 * 10**6 and bomb_path.stat().st_size < 10**6


def test_deterministic(tmp_path: Path) -> None:
    a = dw.write_cifar(tmp_path / "a", seed=3)
    b = dw.write_cifar(tmp_path / "b", seed=3)
    np.testing.assert_array_equal(a["train_images"], b["train_images"])
    assert (tmp_path / "a/cifar-10-batches-py/data_batch_1").read_bytes() == \
        (tmp_path / "b/cifar-10-batches-py/data_batch_1").read_bytes()
