"""Kuzushiji-49 from its four .npz files, with class characters from k49_classmap.csv if present."""
from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import DatasetError
from core.data.sources.base import RawData, files_fingerprint, register, require_root

FILES = ("k49-train-imgs.npz", "k49-train-labels.npz", "k49-test-imgs.npz", "k49-test-labels.npz")
CLASSMAP = "k49_classmap.csv"
URL = "http://codh.rois.ac.jp/kmnist/dataset/k49/"


def _read_npz(path: Path) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as z:
            return z[z.files[0]]  # the published files store a single array, "arr_0"
    except (OSError, ValueError, zipfile.BadZipFile, IndexError) as exc:
        raise DatasetError(f"{path} is not a readable .npz file: {exc}") from None


def _class_names(root: Path, n: int) -> list[str]:
    path = root / CLASSMAP
    names = [str(i) for i in range(n)]
    if path.exists():
        with open(path, encoding="utf-8") as f:
            for row in csv.DictReader(f):
                try:
                    names[int(row["index"])] = f"{int(row['index'])} {row['char']}"
                except (KeyError, ValueError, IndexError):
                    continue  # a malformed row keeps the numeric name
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
        x_train, y_train, x_test, y_test = (_read_npz(root / f) for f in FILES)
        for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
            if x.ndim != 3 or len(x) != len(y):
                raise DatasetError(f"Kuzushiji-49 {split} arrays have shapes {x.shape} and {y.shape}; "
                                   "expected (N, 28, 28) images and (N,) labels")
        n_classes = int(max(y_train.max(), y_test.max())) + 1
        return RawData(
            train_images=x_train.astype(np.uint8)[:, None],
            train_labels=y_train.astype(np.int64),
            test_images=x_test.astype(np.uint8)[:, None],
            test_labels=y_test.astype(np.int64),
            classes=_class_names(root, n_classes),
        )


register(Kuzushiji49Source())
