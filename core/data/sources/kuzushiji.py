"""Kuzushiji-49 from its four .npz files, with class characters from k49_classmap.csv if present."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data import checks
from core.errors import DatasetError
from core.data.sources.base import RawData, files_fingerprint, register, require_root

FILES = ("k49-train-imgs.npz", "k49-train-labels.npz", "k49-test-imgs.npz", "k49-test-labels.npz")
CLASSMAP = "k49_classmap.csv"
URL = "http://codh.rois.ac.jp/kmnist/dataset/k49/"
N_CLASSES = 49
MAX_CLASSMAP_CHARS = 1 << 16
MAX_NAME_CHARS = 40  # one character per class in the published map; a name stays a short label


def _npy_header(z, name: str, path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) from the .npy header inside the .npz, read before any pixel is."""
    fmt = np.lib.format
    with z.zip.open(name + ".npy") as f:
        version = fmt.read_magic(f)
        readers = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}
        if version not in readers:
            raise DatasetError(f"{path}: unsupported .npy format version {version}")
        shape, _, dtype = readers[version](f)
    return shape, dtype


def _read_npz(path: Path) -> np.ndarray:
    """The single array of a published K49 file, bounded by its declared size before reading."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if not z.files:
                raise DatasetError(f"{path} holds no array")
            name = z.files[0]  # the published files store a single array, "arr_0"
            shape, dtype = _npy_header(z, name, path)
            if dtype.hasobject:
                raise DatasetError(f"{path} holds Python objects, not numbers")
            checks.declared_bytes(shape, dtype.itemsize, str(path))
            return z[name]
    except DatasetError:
        raise
    except Exception as exc:  # zip, zlib and numpy raise many types for a damaged file
        raise DatasetError(f"{path} is not a readable .npz file: {type(exc).__name__}: "
                           f"{exc}") from None


def _class_names(root: Path, n: int) -> list[str]:
    """'index char' per class from the class map when it is readable, else the index alone."""
    path = root / CLASSMAP
    names = [str(i) for i in range(n)]
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            text = f.read(MAX_CLASSMAP_CHARS)
        rows = list(csv.DictReader(io.StringIO(text)))
    except (OSError, csv.Error):
        return names  # no class map (it is optional) or an unreadable one
    for row in rows:
        try:
            index, char = int(row["index"]), str(row["char"]).strip()[:MAX_NAME_CHARS]
        except (KeyError, ValueError, TypeError):
            continue  # a malformed row keeps the numeric name
        if 0 <= index < n and char:
            names[index] = f"{index} {char}"
    return names


@dataclass(frozen=True)
class Kuzushiji49Source:
    name: str = "k49"
    title: str = "Kuzushiji-49"
    description: str = "49 classes of cursive Japanese characters, 28x28, heavily imbalanced."
    needs_root: bool = True
    suggested_root: str = "k49"

    def fingerprint(self, spec) -> str:
        root = require_root(spec)
        return files_fingerprint([root / f for f in (*FILES, CLASSMAP)])

    def load(self, spec, download, progress) -> RawData:
        root = require_root(spec)
        missing = [f for f in FILES if not (root / f).exists()]
        if missing:
            hint = f"download them from {URL}" if download else "download them from the KMNIST site"
            raise DatasetError(f"Kuzushiji-49 files missing in {root}: {', '.join(missing)} "
                               f"(expected {', '.join(FILES)}); {hint}.")
        arrays = {}
        for split in ("train", "test"):
            imgs_file, labels_file = root / f"k49-{split}-imgs.npz", root / f"k49-{split}-labels.npz"
            x = checks.images(_read_npz(imgs_file), 3, str(imgs_file))
            y = checks.labels(_read_npz(labels_file), N_CLASSES, str(labels_file))
            checks.same_count(x, y, f"{imgs_file.name} and {labels_file.name} in {root}")
            arrays[split] = (x[:, None], y)
        # labels were checked to lie in 0..48; a subset of K49 (fewer classes) keeps its own count
        n_classes = int(max(arrays["train"][1].max(initial=0), arrays["test"][1].max(initial=0))) + 1
        return RawData(train_images=arrays["train"][0], train_labels=arrays["train"][1],
                       test_images=arrays["test"][0], test_labels=arrays["test"][1],
                       classes=_class_names(root, n_classes))


register(Kuzushiji49Source())
