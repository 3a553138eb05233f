"""Load a dataset spec into memory: source -> workspace cache -> class subset -> steps -> splits."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from core.data import array_cache as cache
from core.data.decode import constant_images, constant_warning
from core.errors import DatasetError
from core.data import labels as decided
from core.data.labels import Applied
from core.data.preprocess import apply_steps, blanked_warning
from core.settings import Settings
from core.data.sources import RawData, get_source
from core.data.sources.base import Progress
from core.data.spec import DatasetSpec
from core.data.splits import SPLITS, assign_splits

CACHE_VERSION = 4  # bump when a loader's output changes for the same files


@dataclass
class ImageDataset:
    """Images in memory as uint8 (N, C, H, W), labels, class names and a split code per image."""

    spec: DatasetSpec
    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    split: np.ndarray  # int8 per image: index into SPLITS
    skipped: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()  # e.g. steps that blanked images; pages and the CLI show them
    load_seconds: float = 0.0
    from_cache: bool = False
    raw_images: np.ndarray | None = field(default=None, repr=False)  # before steps, if any
    decisions: Applied | None = None  # the spec's decisions file (labels=...), as applied
    files: tuple[str, ...] | None = field(default=None, repr=False)  # per image, for file sources

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # (C, H, W)

    def indices(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.split == SPLITS.index(split))

    def subset(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        idx = self.indices(split)
        return self.images[idx], self.labels[idx]


def load_raw(spec: DatasetSpec, settings: Settings | None = None, download: bool = False,
             progress: Progress | None = None) -> tuple[RawData, bool]:
    """The source's arrays, from the workspace cache when the files have not changed."""
    settings = settings or Settings.from_env()
    source = get_source(spec.source)
    key = cache.cache_key({"v": CACHE_VERSION, **spec.source_key(),
                           "fingerprint": source.fingerprint(spec)})
    hit = cache.read(settings.cache_dir, key)
    if hit is not None:
        arrays, meta = hit
        return RawData(train_images=arrays["train_images"], train_labels=arrays["train_labels"],
                       test_images=arrays.get("test_images"), test_labels=arrays.get("test_labels"),
                       classes=meta["classes"],
                       skipped=[tuple(s) for s in meta["skipped"]], files=meta.get("files")), True
    raw = source.load(spec, download, progress)
    arrays = {"train_images": raw.train_images, "train_labels": raw.train_labels}
    if raw.test_images is not None:
        arrays.update(test_images=raw.test_images, test_labels=raw.test_labels)
    cache.write(settings.cache_dir, key, arrays, {"classes": raw.classes, "skipped": raw.skipped,
                                                  "spec": spec.to_dict(), "files": raw.files})
    return raw, False


def select_classes(labels: np.ndarray, classes: list[str],
                   wanted: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(mask of images kept, their labels renumbered 0..k-1 in the order wanted, class names)."""
    if not wanted:
        return np.ones(len(labels), dtype=bool), labels, classes
    unknown = [c for c in wanted if c not in classes]
    if unknown:
        shown = ", ".join(classes[:20]) + (" ..." if len(classes) > 20 else "")
        raise DatasetError(f"unknown class(es) {', '.join(unknown)}; this dataset has: {shown}")
    old_ids = [classes.index(c) for c in wanted]
    mapping = np.full(len(classes), -1, dtype=np.int64)
    mapping[old_ids] = np.arange(len(old_ids))
    keep = mapping[labels] >= 0
    return keep, mapping[labels[keep]], list(wanted)


def load_dataset(spec: DatasetSpec | str, settings: Settings | None = None, download: bool = False,
                 progress: Progress | None = None, keep_raw: bool = False) -> ImageDataset:
    """Everything a page or a run needs from a spec. Raises DatasetError with a usable message."""
    if isinstance(spec, str):
        spec = DatasetSpec.from_text(spec)
    start = time.perf_counter()
    raw, from_cache = load_raw(spec, settings, download, progress)
    n_train = len(raw.train_labels)
    if raw.test_images is not None:
        if raw.test_images.shape[1:] != raw.train_images.shape[1:]:
            raise DatasetError(f"train images are {raw.train_images.shape[1:]} but test images "
                               f"are {raw.test_images.shape[1:]}; choose a size to resize both")
        images = np.concatenate([raw.train_images, raw.test_images])
        labels = np.concatenate([raw.train_labels, raw.test_labels])
    else:
        images, labels = raw.train_images, raw.train_labels
    is_test = np.arange(len(labels)) >= n_train
    files = raw.files if isinstance(raw.files, list) and len(raw.files) == len(labels) else None
    keep, labels, classes = select_classes(labels, list(raw.classes), spec.classes)
    if not keep.all():
        images, is_test = images[keep], is_test[keep]
        files = [f for f, k in zip(files, keep) if k] if files is not None else None
    _check_usable(labels, classes, spec)
    processed = apply_steps(images, spec.steps) if spec.steps else images
    blanked = blanked_warning(images, processed, spec.steps) if spec.steps else None
    flat = constant_warning(len(constant_images(images)), len(images))
    split = assign_splits(labels, is_test, spec.val_fraction, spec.test_fraction, spec.seed)
    applied = None
    if spec.labels:  # after the splits: a decision never moves an image to another split
        path = decided.decisions_dir((settings or Settings.from_env()).workspace) / spec.labels
        decisions, sha = decided.read(path)
        keep, labels = decided.apply(decisions, labels, classes, spec.labels, files)
        applied = Applied(spec.labels, sha, sum(d.action == decided.Action.RELABEL for d in decisions),
                          int((~keep).sum()), np.flatnonzero(keep))
        if not keep.all():
            processed, images, labels, split = processed[keep], images[keep], labels[keep], split[keep]
            files = [f for f, k in zip(files, keep) if k] if files is not None else None
            _check_usable(labels, classes, spec)
    return ImageDataset(spec=spec, images=processed, labels=labels, classes=tuple(classes),
                        split=split, skipped=tuple(raw.skipped),
                        warnings=tuple(w for w in (flat, blanked) if w),
                        load_seconds=time.perf_counter() - start, from_cache=from_cache,
                        raw_images=images if keep_raw and spec.steps else None, decisions=applied,
                        files=tuple(files) if files is not None else None)


def _check_usable(labels: np.ndarray, classes: list[str], spec: DatasetSpec) -> None:
    if len(labels) == 0:
        raise DatasetError(f"{spec.to_text()} has no images")
    present = np.unique(labels)
    if len(present) < 2:
        only = classes[int(present[0])] if len(present) else "none"
        raise DatasetError(f"{spec.to_text()} has one class only ({only}); a classifier needs two "
                           "or more, and anomaly work needs normal and anomalous images")
