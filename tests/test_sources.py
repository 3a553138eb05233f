"""Every source, loaded through load_dataset from tiny files written in the real format."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from core.data.dataset import load_dataset
from core.data.spec import DatasetSpec
from core.errors import DatasetError
from tests import data_writers as dw


def test_digits_is_the_default_and_matches_sklearn(settings) -> None:
    from sklearn.datasets import load_digits

    ds = load_dataset(DatasetSpec(), settings)
    bunch = load_digits()
    assert ds.images.shape == (1797, 1, 8, 8) and ds.images.dtype == np.uint8
    assert ds.classes == tuple(str(i) for i in range(10))
    np.testing.assert_array_equal(ds.labels, bunch.target)
    # 0..16 counts scaled to 0..255: the brightest pixel is 255, the order of pixels is kept
    assert ds.images.max() == 255
    np.testing.assert_array_equal(np.argsort(ds.images[5, 0].ravel(), kind="stable"),
                                  np.argsort(bunch.images[5].ravel(), kind="stable"))


@pytest.mark.parametrize("source, folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST"),
                                            ("kmnist", "KMNIST")])
def test_mnist_family_reads_idx_files(settings, data_root: Path, source: str, folder: str) -> None:
    info = dw.write_mnist_idx(data_root, folder=folder, n_train=40, n_test=20)
    ds = load_dataset(DatasetSpec(source=source, root=str(data_root), val_fraction=0.25), settings)
    assert ds.shape == (1, 28, 28) and len(ds.classes) == 10
    train_and_val = np.sort(np.concatenate([ds.indices("train"), ds.indices("val")]))
    np.testing.assert_array_equal(ds.images[train_and_val, 0], info["train_images"])
    np.testing.assert_array_equal(ds.images[ds.indices("test"), 0], info["test_images"])
    np.testing.assert_array_equal(ds.labels[ds.indices("test")], info["test_labels"])
    assert len(ds.indices("val")) == 10  # a quarter of the 40 source-train images


def test_mnist_gz_only_files_are_unpacked(settings, data_root: Path) -> None:
    info = dw.write_mnist_idx(data_root, gzip_files=True)
    for plain in info["raw_dir"].glob("*-ubyte"):
        plain.unlink()
    ds = load_dataset(f"mnist?root={data_root}", settings)
    assert len(ds.labels) == 40


def test_missing_torchvision_files_name_what_and_where(settings, data_root: Path) -> None:
    with pytest.raises(DatasetError) as err:
        load_dataset(f"mnist?root={data_root}", settings)
    message = str(err.value)
    assert str(data_root / "MNIST" / "raw") in message
    assert "train-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message
    with pytest.raises(DatasetError, match="data_batch_1.*test_batch.*batches.meta"):
        load_dataset(f"cifar10?root={data_root}", settings)


def test_cifar10_batches(settings, data_root: Path) -> None:
    info = dw.write_cifar(data_root, "cifar10", n_per_class=3)
    ds = load_dataset(f"cifar10?root={data_root}", settings)
    assert ds.shape == (3, 32, 32) and ds.classes[0] == "airplane"
    test = ds.indices("test")
    np.testing.assert_array_equal(ds.images[test].transpose(0, 2, 3, 1), info["test_images"])
    np.testing.assert_array_equal(ds.labels[test], info["test_labels"])


def test_cifar100_class_subset_makes_a_two_class_set(settings, data_root: Path) -> None:
    dw.write_cifar(data_root, "cifar100", n_per_class=4, classes=[3, 22, 27, 50])
    ds = load_dataset(f"cifar100?root={data_root}&classes=clock,crocodile", settings)
    assert ds.classes == ("clock", "crocodile")
    assert sorted(set(ds.labels.tolist())) == [0, 1]
    assert len(ds.labels) == 16 and len(ds.indices("test")) == 8
    with pytest.raises(DatasetError, match="unknown class.*crocodyle"):
        load_dataset(f"cifar100?root={data_root}&classes=clock,crocodyle", settings)


def test_cifar_batch_with_code_in_it_is_refused(settings, data_root: Path) -> None:
    dw.write_cifar(data_root, "cifar10", n_per_class=1)

    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    with open(data_root / "cifar-10-batches-py" / "test_batch", "wb") as f:
        pickle.dump({"data": Evil(), "labels": [0]}, f)
    with pytest.raises(DatasetError, match="refusing to load builtins.print"):
        load_dataset(f"cifar10?root={data_root}", settings)


def test_k49_npz_with_class_map_and_imbalance(settings, data_root: Path) -> None:
    info = dw.write_k49(data_root, n_train=120, n_test=49)
    ds = load_dataset(f"k49?root={data_root}&val_fraction=0", settings)
    assert len(ds.classes) == 49 and ds.classes[0] == f"0 {info['chars'][0]}"
    np.testing.assert_array_equal(ds.images[ds.indices("train"), 0], info["train_images"])
    counts = np.bincount(ds.labels[ds.indices("train")], minlength=49)
    assert counts[0] > 5 * counts[1:].min()  # the imbalance survives loading
    info["classmap"].unlink()
    ds = load_dataset(f"k49?root={data_root}", settings)
    assert ds.classes[:2] == ("0", "1")


def test_k49_missing_files_are_named(settings, data_root: Path) -> None:
    dw.write_k49(data_root)
    (data_root / "k49-test-labels.npz").unlink()
    with pytest.raises(DatasetError, match="k49-test-labels.npz"):
        load_dataset(f"k49?root={data_root}", settings)


def test_image_folder_skips_corrupt_and_stray_files(settings, data_root: Path) -> None:
    info = dw.write_image_folder(data_root / "cracks", n_per_class=5, size=(20, 16))
    ds = load_dataset(f"folder?root={data_root / 'cracks'}&size=16&mode=L", settings)
    assert ds.classes == ("Negative", "Positive") and ds.shape == (1, 16, 16)
    assert len(ds.labels) == 10
    skipped = {Path(path).name: reason for path, reason in ds.skipped}
    assert set(skipped) == {"broken.png", "notes.txt"}
    assert "cannot decode" in skipped["broken.png"] and "not an image" in skipped["notes.txt"]
    assert info["corrupt"][0].exists()  # reported, never deleted


def test_image_folder_keeps_its_own_train_test_split(settings, data_root: Path) -> None:
    dw.write_image_folder(data_root / "leaks", classes=("normal", "leak"), n_per_class=4,
                          with_train_test=True, corrupt=False, stray_text=False)
    ds = load_dataset(f"folder?root={data_root / 'leaks'}&val_fraction=0.25", settings)
    assert ds.classes == ("leak", "normal")  # sorted folder names
    assert ds.shape == (3, 16, 20)  # RGB files stay RGB, size kept when all match
    assert len(ds.indices("test")) == 8 and len(ds.indices("val")) == 2


def test_image_folder_grayscale_files_load_as_one_channel(settings, data_root: Path) -> None:
    dw.write_image_folder(data_root / "g", mode="L", fmt_cycle=("png",), corrupt=False,
                          stray_text=False)
    assert load_dataset(f"folder?root={data_root / 'g'}", settings).shape == (1, 16, 20)


def test_image_folder_of_mixed_sizes_needs_a_size(settings, data_root: Path) -> None:
    dw.write_image_folder(data_root / "odd", odd_sizes=True, corrupt=False, stray_text=False)
    with pytest.raises(DatasetError, match="different sizes.*choose a size"):
        load_dataset(f"folder?root={data_root / 'odd'}", settings)
    assert load_dataset(f"folder?root={data_root / 'odd'}&size=32", settings).shape == (3, 32, 32)


def test_image_folder_bad_layouts_get_clear_messages(settings, data_root: Path) -> None:
    (data_root / "empty").mkdir()
    with pytest.raises(DatasetError, match="no class subfolders"):
        load_dataset(f"folder?root={data_root / 'empty'}", settings)
    (data_root / "textonly" / "a").mkdir(parents=True)
    (data_root / "textonly" / "a" / "x.txt").write_text("hello")
    with pytest.raises(DatasetError, match="no readable images"):
        load_dataset(f"folder?root={data_root / 'textonly'}", settings)
    dw.write_image_folder(data_root / "one", classes=("only",), corrupt=False, stray_text=False)
    with pytest.raises(DatasetError, match="one class only"):
        load_dataset(f"folder?root={data_root / 'one'}", settings)
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(f"folder?root={data_root / 'nowhere'}", settings)


def test_file_names_agree_with_torchvision_without_importing_it(settings, data_root: Path) -> None:
    """The sources name the files themselves, so a cached load never imports torchvision."""
    import os
    import subprocess
    import sys

    import torchvision.datasets as tvd

    from core.data.sources import all_sources
    from core.data.sources.torchvision_sets import IDX_FILES

    by_name = {s.name: s for s in all_sources()}
    for name in ("mnist", "fashion_mnist", "kmnist"):
        cls = getattr(tvd, by_name[name].class_name)
        assert [Path(url).stem for url, _ in cls.resources] == list(IDX_FILES)
    for name in ("cifar10", "cifar100"):
        source, cls = by_name[name], getattr(tvd, by_name[name].class_name)
        assert source.folder == cls.base_folder
        assert list(source.train_files) == [f for f, _ in cls.train_list]
        assert list(source.test_files) == [f for f, _ in cls.test_list]
        assert (source.meta_file, source.meta_key) == (cls.meta["filename"], cls.meta["key"])
    dw.write_mnist_idx(data_root, n_train=20, n_test=10)
    load_dataset(f"mnist?root={data_root}", settings)  # fills the cache
    code = ("import sys; from core.data.dataset import load_dataset; from core.settings import Settings;"
            f"ds = load_dataset('mnist?root={data_root}', Settings.from_env());"
            "print(ds.from_cache, 'torchvision' in sys.modules)")
    env = {**os.environ, "DASH_WORKSPACE": str(settings.workspace),
           "DASH_DATA_ROOTS": str(data_root)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.stdout.split() == ["True", "False"], out.stderr[-2000:]
