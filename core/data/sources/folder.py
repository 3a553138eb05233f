"""An image folder: one subfolder per class, optionally under train/ and test/.

Any size and mode is converted to the spec's size and mode (core/data/decode.py, in parallel
for big folders). Files that are not images, fail to decode or are too large are skipped and
reported, never fatal. A link is followed only when its target stays inside the dataset's
folder or a data root: nothing reached through a link may leave them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.decode import decode_all, decode_file
from core.data.sources.base import RawData, files_fingerprint, register, require_root
from core.errors import DatasetError
from core.settings import MAX_DATASET_BYTES, MAX_FOLDER_FILES, Settings, is_inside, resolve

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
IGNORED_NAMES = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"}
LINK_OUTSIDE = "a link leading outside the data folders; ignored"
MAX_DEPTH = 32  # folders below a class folder


def _visible(name: str) -> bool:
    return not name.startswith(".") and name not in IGNORED_NAMES


class _Walker:
    """Lists folders and files under a dataset root, refusing links that leave the allowed roots."""

    def __init__(self, root: Path, restrict_links: bool = True):
        self.allowed = (resolve(root), *Settings.from_env().data_roots) if restrict_links else None
        self.skipped: list[tuple[str, str]] = []
        self.count = 0

    def _stays_inside(self, entry: os.DirEntry) -> bool:
        if not entry.is_symlink() or self.allowed is None:
            return True
        try:
            target = Path(os.path.realpath(entry.path, strict=True))
        except (OSError, RuntimeError):
            return False
        if not is_inside(target, self.allowed):
            self.skipped.append((entry.path, LINK_OUTSIDE))
            return False
        return True

    def _entries(self, folder: Path) -> list[os.DirEntry]:
        try:
            with os.scandir(folder) as it:
                return sorted((e for e in it if _visible(e.name)), key=lambda e: e.name)
        except OSError as exc:
            raise DatasetError(f"cannot list {folder}: {exc.strerror or exc}") from None

    def subfolders(self, folder: Path) -> list[Path]:
        return [Path(e.path) for e in self._entries(folder)
                if _safely(e.is_dir) and self._stays_inside(e)]

    def files(self, folder: Path) -> list[Path]:
        """Regular files under folder, in name order; linked subfolders are not entered."""
        out: list[Path] = []
        stack = [(folder, 0)]
        while stack:
            current, depth = stack.pop()
            for entry in reversed(self._entries(current)):  # reversed: the stack pops in order
                if _safely(lambda: entry.is_dir(follow_symlinks=False)):
                    if depth < MAX_DEPTH:
                        stack.append((Path(entry.path), depth + 1))
                    else:
                        self.skipped.append((entry.path, f"more than {MAX_DEPTH} folders deep"))
                elif _safely(entry.is_file) and self._stays_inside(entry):
                    out.append(Path(entry.path))
                    self.count += 1
                    if self.count > MAX_FOLDER_FILES:
                        raise DatasetError(f"{folder} holds more than {MAX_FOLDER_FILES:,} "
                                           "files; point at a smaller folder")
        return sorted(out)


def _safely(test) -> bool:
    """A DirEntry test, False when the entry cannot be looked at (a link loop, no access)."""
    try:
        return test()
    except OSError:
        return False


def _check_root(root: Path) -> None:
    try:
        if root.is_dir():
            return
        is_file = root.is_file()
    except OSError as exc:  # e.g. a folder on the way that this user may not enter
        raise DatasetError(f"{root} cannot be read: {exc.strerror or exc}") from None
    if is_file:
        hint = " Upload it on the Data page or unpack it." if root.suffix.lower() == ".zip" else ""
        raise DatasetError(f"{root} is a file, not a folder of class subfolders.{hint}")
    raise DatasetError(f"folder {root} does not exist")


def listing(root: Path) -> tuple[dict[str, Path], dict[str, dict[str, list[Path]]],
                                list[tuple[str, str]]]:
    """(split folders, {split: {class: files}}, skipped links). The splits are 'train' and, when
    root holds train/ and test/, 'test'; otherwise root itself is the train split."""
    _check_root(root)
    walker = _Walker(root)
    top_dirs = walker.subfolders(root)
    top = {p.name.lower(): p for p in top_dirs}
    if "train" in top and "test" in top:
        splits = {"train": top["train"], "test": top["test"]}
        class_dirs = {split: walker.subfolders(folder) for split, folder in splits.items()}
    else:
        splits, class_dirs = {"train": root}, {"train": top_dirs}
    found = {split: {d.name: walker.files(d) for d in dirs} for split, dirs in class_dirs.items()}
    return splits, found, walker.skipped


def _guess_mode(files: list[Path]) -> str:
    """Grayscale when the first images of every class are grayscale, else RGB (header only)."""
    from PIL import Image

    for path in files:
        try:
            with Image.open(path) as img:
                if img.mode not in ("L", "LA", "1", "I", "I;16", "I;16B", "I;16L", "F"):
                    return "RGB"
        except Exception:
            continue
    return "L"


def _check_planned_size(n_files: int, channels: int, size: int | None, root: Path) -> None:
    """Refuse before decoding when the chosen size alone says the pixels will not fit."""
    if size is not None and n_files * channels * size * size > MAX_DATASET_BYTES:
        raise DatasetError(f"{n_files:,} images of {size}x{size} in {root} are more than "
                           f"{MAX_DATASET_BYTES / 2**30:.0f} GiB of pixels; choose a smaller size")


def image_files(folder: Path) -> list[Path]:
    """Every visible file under folder, at any depth, sorted (hidden files and OS junk left out):
    what the loader reads from a class folder, and what predict reads from a folder of new images.
    Linked subfolders are not entered; linked files are listed wherever they lead, for the caller
    to judge (predict refuses, per file, those outside the data roots when a browser typed it)."""
    return _Walker(folder, restrict_links=False).files(folder)


def read_image(path: Path, mode: str, size: int | None) -> np.ndarray:
    """One image file as uint8 (C, H, W) in mode ("L" or "RGB"), resized to size x size if given,
    exactly as the loader converts it."""
    return decode_file(path, mode, size)


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
        try:
            _, found, _ = listing(require_root(spec))
        except DatasetError:
            return "unreadable"  # load() raises the same error with its message
        return files_fingerprint([p for classes in found.values() for files in classes.values()
                                  for p in files])

    def load(self, spec, download, progress) -> RawData:
        root = require_root(spec)
        splits, found, skipped = listing(root)
        classes = sorted({name for per_class in found.values() for name in per_class})
        if not classes:
            raise DatasetError(f"{root} has no class subfolders; put images in one folder per "
                               "class, e.g. normal/ and anomaly/")
        todo: list[tuple[str, int, Path]] = []  # (split, label, file)
        for split, per_class in found.items():
            for label, name in enumerate(classes):
                for path in per_class.get(name, []):
                    if path.suffix.lower() in IMAGE_SUFFIXES:
                        todo.append((split, label, path))
                    else:
                        skipped.append((str(path), "not an image file"))
        paths = [p for _, _, p in todo]
        mode = spec.mode or _guess_mode(paths[:: max(1, len(paths) // 50)][:50])
        _check_planned_size(len(paths), 3 if mode == "RGB" else 1, spec.size, root)
        decoded = decode_all(paths, mode, spec.size, str(root), progress)
        skipped += [(str(paths[i]), reason) for i, reason in sorted(decoded.reasons.items())]
        is_test = np.array([split == "test" for split, _, _ in todo], dtype=bool)[decoded.kept]
        labels = np.array([label for _, label, _ in todo], dtype=np.int64)[decoded.kept]
        n_train = int((~is_test).sum())  # train files come first, so train rows are a prefix
        for split, rows in (("train", n_train), ("test", int(is_test.sum()))):
            if split in splits and rows == 0:
                raise DatasetError(f"no readable images in {splits[split]} "
                                   f"({len(skipped)} files skipped)")
        has_test = "test" in splits
        files = [_relative(paths[i], root) for i in decoded.kept]
        return RawData(train_images=decoded.images[:n_train], train_labels=labels[:n_train],
                       test_images=decoded.images[n_train:] if has_test else None,
                       test_labels=labels[n_train:] if has_test else None, classes=classes,
                       skipped=skipped, files=files)


def _relative(path: Path, root: Path) -> str:
    """The file under the dataset's folder (what a user finds it by), as text that encodes."""
    try:
        name = str(path.relative_to(root))
    except ValueError:
        name = str(path)
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


register(ImageFolderSource())
