"""torchvision's MNIST-family and CIFAR datasets, read from a local root.

Nothing is downloaded unless the caller passes download=True (the page's Download button,
the CLI's --download); then torchvision's own download code runs.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data import checks, idx
from core.errors import DatasetError
from core.data.sources.base import RawData, files_fingerprint, register, require_root


def _torchvision_class(name: str):
    import torchvision.datasets  # imported on use: ~1 s, and only file sources need it

    return getattr(torchvision.datasets, name)


def _download(cls, title: str, root: Path) -> None:
    """torchvision's own download (only when the user asked for it)."""
    try:
        cls(root=str(root), train=True, download=True)
    except Exception as exc:  # network errors come in many types
        raise DatasetError(f"could not download {title} into {root}: {exc}") from exc


IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")  # the same four names for MNIST, Fashion-MNIST and KMNIST


@dataclass(frozen=True)
class MnistLikeSource:
    """MNIST, FashionMNIST, KMNIST: the four IDX files, or their .gz as distributed, read in
    place (core/data/idx.py); torchvision only names the files and downloads them."""

    name: str
    title: str
    description: str
    class_name: str  # torchvision.datasets attribute, also its folder under root
    needs_root: bool = True
    downloadable: bool = True
    suggested_root: str = "."

    def _cls(self):
        return _torchvision_class(self.class_name)

    def expected_files(self, root: Path) -> list[Path]:
        """The four IDX files in torchvision's order (images, labels; train, test). Named here,
        not asked of torchvision: a cached load only fingerprints them, and importing
        torchvision for their names cost 2.5 s and 650 MB (tests check the names agree)."""
        return [root / self.class_name / "raw" / name for name in IDX_FILES]

    @staticmethod
    def _readable(path: Path) -> Path | None:
        """path when it is a whole IDX file, else its .gz beside it, else None."""
        gz = path.with_name(path.name + ".gz")
        if path.is_file() and (idx.problem(path) is None or not gz.is_file()):
            return path
        return gz if gz.is_file() else None

    def fingerprint(self, spec) -> str:
        files = [self._readable(p) for p in self.expected_files(require_root(spec))]
        return files_fingerprint([p for p in files if p is not None])

    def load(self, spec, download, progress) -> RawData:
        root = require_root(spec)
        cls = self._cls()
        if download:
            _download(cls, self.title, root)
        expected = self.expected_files(root)
        found = [self._readable(p) for p in expected]
        if None in found:
            raise DatasetError(
                f"{self.title} files not found in {root / self.class_name / 'raw'}: expected "
                f"{', '.join(p.name for p in expected)}. Copy them there (or their .gz), or ask "
                "for a download.")
        for path in found:
            if path.suffix != ".gz" and (why := idx.problem(path)) is not None:
                raise DatasetError(f"{self.title}: {why}")
        classes = [str(c) for c in cls.classes]
        train_x, train_y, test_x, test_y = found  # torchvision's order: images, labels x2
        arrays = {}
        for split, x_file, y_file in (("train", train_x, train_y), ("test", test_x, test_y)):
            x = checks.images(idx.read(x_file), 3, str(x_file))
            y = checks.labels(idx.read(y_file), len(classes), str(y_file))
            checks.same_count(x, y, f"{x_file.name} and {y_file.name}")
            arrays[split] = (x[:, None], y)
        return RawData(train_images=arrays["train"][0], train_labels=arrays["train"][1],
                       test_images=arrays["test"][0], test_labels=arrays["test"][1],
                       classes=classes)


CIFAR_ROW = 3 * 32 * 32
MAX_NAME_CHARS = 100


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """CIFAR batches are pickles; allow only what numpy arrays need, never arbitrary code."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR batch")


def _read_batch(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            entry = _ArraysOnlyUnpickler(f, encoding="latin1").load()
    except Exception as exc:  # a damaged pickle raises many types; none of them is a bug here
        raise DatasetError(f"{path} is not a readable CIFAR batch: {exc}") from None
    if not isinstance(entry, dict):
        raise DatasetError(f"{path} is not a CIFAR batch: it holds a {type(entry).__name__}, "
                           "not a dict")
    return entry


def _field(entry: dict, keys: tuple[str, ...], path: Path):
    for key in keys:
        if key in entry:
            return entry[key]
    raise DatasetError(f"{path} is not a CIFAR batch: it has no {' or '.join(keys)} entry")


def _class_names(meta_file: Path, key: str) -> list[str]:
    names = _field(_read_batch(meta_file), (key,), meta_file)
    if not isinstance(names, (list, tuple)):
        raise DatasetError(f"{meta_file}: {key} must be a list of names")
    checks.class_count(len(names), str(meta_file))
    return [str(n)[:MAX_NAME_CHARS] for n in names]


@dataclass(frozen=True)
class CifarSource:
    """CIFAR-10/100 python batches (the md5 check of torchvision's class refuses edited files)."""

    name: str
    title: str
    description: str
    class_name: str
    folder: str = ""  # where torchvision unpacks the batches under the root
    train_files: tuple[str, ...] = ()
    test_files: tuple[str, ...] = ()
    meta_file: str = ""
    meta_key: str = ""  # the class names' entry in the meta file
    needs_root: bool = True
    downloadable: bool = True
    suggested_root: str = "."

    def _cls(self):
        return _torchvision_class(self.class_name)

    def _files(self, root: Path) -> tuple[list[Path], list[Path], Path]:
        """Named here, not asked of torchvision (see MnistLikeSource.expected_files)."""
        base = root / self.folder
        return [base / f for f in self.train_files], [base / f for f in self.test_files], \
            base / self.meta_file

    def fingerprint(self, spec) -> str:
        train, test, meta = self._files(require_root(spec))
        return files_fingerprint([*train, *test, meta])

    def load(self, spec, download, progress) -> RawData:
        root = require_root(spec)
        if download:
            _download(self._cls(), self.title, root)
        train_files, test_files, meta_file = self._files(root)
        expected = [*train_files, *test_files, meta_file]
        if any(not p.exists() for p in expected):
            raise DatasetError(
                f"{self.title} files not found in {meta_file.parent}: expected "
                f"{', '.join(p.name for p in expected)}. Copy them there or ask for a download."
            )
        names = _class_names(meta_file, self.meta_key)
        train_x, train_y = self._read_split(train_files, len(names))
        test_x, test_y = self._read_split(test_files, len(names))
        return RawData(train_images=train_x, train_labels=train_y, test_images=test_x,
                       test_labels=test_y, classes=names)

    @staticmethod
    def _read_split(files: list[Path], n_classes: int) -> tuple[np.ndarray, np.ndarray]:
        """Every batch checked on its own, so labels can never shift onto another batch's rows."""
        data, labels = [], []
        for path in files:
            entry = _read_batch(path)
            rows = checks.images(_field(entry, ("data",), path), 2, str(path))
            if rows.shape[1] != CIFAR_ROW:
                raise DatasetError(f"{path}: rows have {rows.shape[1]} values; a CIFAR image has "
                                   f"{CIFAR_ROW} (3 x 32 x 32)")
            batch_labels = checks.labels(_field(entry, ("labels", "fine_labels"), path),
                                         n_classes, str(path))
            checks.same_count(rows, batch_labels, str(path))
            data.append(rows)
            labels.append(batch_labels)
        images = np.concatenate(data).reshape(-1, 3, 32, 32)  # rows are R, G, B planes
        return np.ascontiguousarray(images), np.concatenate(labels)


for _source in (
    MnistLikeSource("mnist", "MNIST", "Handwritten digits, 28x28 grayscale, 60k/10k.", "MNIST"),
    MnistLikeSource("fashion_mnist", "Fashion-MNIST", "Clothing, 28x28 grayscale, 60k/10k.",
                    "FashionMNIST"),
    MnistLikeSource("kmnist", "Kuzushiji-MNIST", "10 cursive Japanese characters, 28x28, 60k/10k.",
                    "KMNIST"),
    CifarSource("cifar10", "CIFAR-10", "10 classes of 32x32 colour photos, 50k/10k.", "CIFAR10",
                folder="cifar-10-batches-py", train_files=tuple(f"data_batch_{i}" for i in range(1, 6)),
                test_files=("test_batch",), meta_file="batches.meta", meta_key="label_names"),
    CifarSource("cifar100", "CIFAR-100", "100 classes of 32x32 colour photos, 50k/10k; "
                "e.g. classes=clock,crocodile.", "CIFAR100", folder="cifar-100-python",
                train_files=("train",), test_files=("test",), meta_file="meta",
                meta_key="fine_label_names"),
):
    register(_source)
