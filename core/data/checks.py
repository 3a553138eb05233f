"""Checks on the arrays a source read, before anything trusts them: one clear error each.

Labels: integer, 1-D, no negatives, below the number of classes (a label of 50,000,000 would
otherwise make 50 M classes). Images: uint8 pixels, the expected rank, not empty, as many as
labels, within MAX_DATASET_BYTES.
"""
from __future__ import annotations

import numpy as np

from core.errors import DatasetError
from core.settings import MAX_CLASSES, MAX_DATASET_BYTES


def labels(values, n_classes: int, where: str) -> np.ndarray:
    """values as int64 labels in 0..n_classes-1, or a DatasetError naming where and why."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise DatasetError(f"{where}: labels must be a 1-D list, not shape {array.shape}")
    if array.dtype.kind not in "iu":
        bad = "NaN " if array.dtype.kind == "f" and np.isnan(array).any() else ""
        raise DatasetError(f"{where}: labels must be integers, not {bad}{array.dtype} values")
    if len(array) and array.min() < 0:
        raise DatasetError(f"{where}: negative label {int(array.min())}")
    if len(array) and array.max() >= n_classes:
        raise DatasetError(f"{where}: label {int(array.max())} is out of range; this dataset "
                           f"has {n_classes} classes (0..{n_classes - 1})")
    return array.astype(np.int64)


def images(values, ndim: int, where: str) -> np.ndarray:
    """values as uint8 pixels of rank ndim with at least one image, or a DatasetError."""
    array = np.asarray(values)
    if array.dtype != np.uint8:
        raise DatasetError(f"{where}: pixels must be uint8 (0..255), not {array.dtype}")
    if array.ndim != ndim:
        raise DatasetError(f"{where}: images have shape {array.shape}; expected {ndim} axes")
    if array.size == 0:
        raise DatasetError(f"{where}: no images (shape {array.shape})")
    return array


def same_count(images_: np.ndarray, labels_: np.ndarray, where: str) -> None:
    if len(images_) != len(labels_):
        raise DatasetError(f"{where}: {len(images_):,} images but {len(labels_):,} labels; "
                           "refusing to pair them")


def class_count(n: int, where: str) -> None:
    if not 1 <= n <= MAX_CLASSES:
        raise DatasetError(f"{where}: {n:,} classes; between 1 and {MAX_CLASSES} are supported")


def declared_bytes(shape: tuple[int, ...], itemsize: int, where: str) -> int:
    """Bytes an array of this shape will take; refused past MAX_DATASET_BYTES before reading."""
    if any(int(d) < 0 for d in shape):
        raise DatasetError(f"{where}: negative dimension in shape {shape}")
    total = int(np.prod([int(d) for d in shape], dtype=object)) * itemsize
    if total > MAX_DATASET_BYTES:
        raise DatasetError(f"{where}: declares {total / 2**30:.1f} GiB ({shape}); the limit is "
                           f"{MAX_DATASET_BYTES / 2**30:.0f} GiB")
    return total
