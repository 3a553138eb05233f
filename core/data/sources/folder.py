"""An image folder: one subfolder per class, optionally under train/ and test/.

Any size and mode is converted to the spec's size and mode. Files that are not images, or
that fail to decode, are skipped and reported, never fatal.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import DatasetError
from core.data.sources.base import RawData, files_fingerprint, register, require_root

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
IGNORED_NAMES = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"}


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and path.name not in IGNORED_NAMES


def _class_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and _visible(p))


def layout(root: Path) -> dict[str, Path]:
    """{'train': folder, 'test': folder} when root has train/ and test/, else {'train': root}."""
    if not root.is_dir():
        raise DatasetError(f"folder {root} does not exist")
    names = {p.name.lower(): p for p in _class_dirs(root)}
    if "train" in names and "test" in names:
        return {"train": names["train"], "test": names["test"]}
    return {"train": root}


def _files(class_dir: Path) -> list[Path]:
    return sorted(p for p in class_dir.rglob("*") if p.is_file()
                  and all(_visible(Path(part)) for part in p.relative_to(class_dir).parts))


def _read_image(path: Path, mode: str, size: int | None) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as img:
        img.load()
        img = img.convert(mode)
        if size is not None and img.size != (size, size):
            img = img.resize((size, size), Image.Resampling.BILINEAR)
        array = np.asarray(img, dtype=np.uint8)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def _guess_mode(folder: Path, classes: list[str]) -> str:
    """Grayscale when the first images of every class are grayscale, else RGB (header only)."""
    from PIL import Image

    for name in classes:
        for path in _files(folder / name)[:5] if (folder / name).is_dir() else []:
            try:
                with Image.open(path) as img:
                    if img.mode not in ("L", "LA", "1", "I", "I;16", "F"):
                        return "RGB"
            except Exception:
                continue
    return "L"


def _read_split(split_dir: Path, classes: list[str], mode: str, size: int | None,
                skipped: list, progress, done: int, total: int) -> tuple[list, list, int]:
    images, labels = [], []
    for label, name in enumerate(classes):
        class_dir = split_dir / name
        if not class_dir.is_dir():
            continue
        for path in _files(class_dir):
            done += 1
            if progress and done % 200 == 0:
                progress(done / max(total, 1), f"reading images {done}/{total}")
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                skipped.append((str(path), "not an image file"))
                continue
            try:
                images.append(_read_image(path, mode, size))
                labels.append(label)
            except Exception as exc:  # PIL raises many types for broken files
                skipped.append((str(path), f"cannot decode: {type(exc).__name__}: {exc}"))
    return images, labels, done


def _stack(images: list[np.ndarray], where: Path) -> np.ndarray:
    shapes: dict[tuple, int] = {}
    for img in images:
        shapes[img.shape[1:]] = shapes.get(img.shape[1:], 0) + 1
    if len(shapes) > 1:
        listed = ", ".join(f"{w}x{h} ({n} images)" for (h, w), n in
                           sorted(shapes.items(), key=lambda kv: -kv[1])[:5])
        raise DatasetError(f"images in {where} have different sizes ({listed}); "
                           "choose a size to resize them to")
    return np.stack(images)


def image_files(folder: Path) -> list[Path]:
    """Every visible file under folder, at any depth, sorted (hidden files and OS junk left out):
    what the loader reads from a class folder, and what predict reads from a folder of new images."""
    return _files(folder)


def read_image(path: Path, mode: str, size: int | None) -> np.ndarray:
    """One image file as uint8 (C, H, W) in mode ("L" or "RGB"), resized to size x size if given,
    exactly as the loader converts it."""
    return _read_image(path, mode, size)


@dataclass(frozen=True)
class ImageFolderSource:
    name: str = "folder"
    title: str = "Image folder"
    description: str = ("One subfolder per class (e.g. normal/, leak/), optionally under train/ "
                        "and test/; any size, converted to the chosen size and mode.")
    needs_root: bool = True
    accepts_zip: bool = True
    resizable: bool = True

    def fingerprint(self, spec) -> str:
        root = require_root(spec)
        if not root.is_dir():
            return "missing"
        return files_fingerprint([p for p in root.rglob("*") if p.is_file()])

    def load(self, spec, download, progress) -> RawData:
        root = require_root(spec)
        splits = layout(root)
        classes = sorted({d.name for folder in splits.values() for d in _class_dirs(folder)})
        if not classes:
            raise DatasetError(f"{root} has no class subfolders; put images in one folder per "
                               "class, e.g. normal/ and anomaly/")
        total = sum(len(_files(folder / c)) for folder in splits.values() for c in classes
                    if (folder / c).is_dir())
        mode = spec.mode or _guess_mode(splits["train"], classes)
        skipped: list[tuple[str, str]] = []
        arrays, done = {}, 0
        for split, folder in splits.items():
            images, labels, done = _read_split(folder, classes, mode, spec.size, skipped,
                                               progress, done, total)
            if not images:
                raise DatasetError(f"no readable images in {folder} "
                                   f"({len(skipped)} files skipped)")
            arrays[split] = (_stack(images, folder), np.asarray(labels, dtype=np.int64))
        test = arrays.get("test", (None, None))
        return RawData(train_images=arrays["train"][0], train_labels=arrays["train"][1],
                       test_images=test[0], test_labels=test[1], classes=classes,
                       skipped=skipped)


register(ImageFolderSource())
