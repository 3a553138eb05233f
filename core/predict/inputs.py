"""New images for predict: a folder (any depth), one image, a .zip or a dataset spec, read in
batches through a run's recipe, so that a folder of any size is never held in memory whole.

A file that cannot be used (not an image, corrupt, too large, the wrong size for a run that does
not resize) is recorded with its reason and left out; it never stops the others."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np

from core.data.sources.folder import IMAGE_SUFFIXES, image_files, read_image
from core.data.spec import DatasetSpec
from core.errors import UserError
from core.predict.recipe import Recipe
from core.settings import MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES, Settings

MAX_FILES = MAX_UPLOAD_FILES  # files in one input
MAX_PIXELS = 4096 * 4096  # per image, read from its header before anything is decoded
BATCH = 1024  # images decoded, preprocessed and scored together


class InputKind(StrEnum):
    FOLDER = "folder"
    IMAGE = "image"
    ZIP = "zip"
    DATASET = "dataset"


@dataclass
class Batch:
    """Images of some rows, ready for the model, and why the other rows of the batch are not."""

    rows: np.ndarray  # positions in NewImages.names
    images: np.ndarray  # uint8 (B, C, H, W)
    errors: dict[int, str] = field(default_factory=dict)


@dataclass
class NewImages:
    """What predict reads: a name per image, and either files or (for a dataset spec) arrays."""

    names: list[str]
    kind: InputKind
    where: str  # as the user gave it, for messages
    paths: list[Path] | None = None
    arrays: np.ndarray | None = None  # raw uint8 (N, C, H, W), before the run's steps
    labels: list[str] | None = None  # true class per image, when a dataset spec gave them
    refused: dict[int, str] = field(default_factory=dict)  # rows refused before reading

    def __len__(self) -> int:
        return len(self.names)

    def batches(self, recipe: Recipe, batch_size: int = BATCH) -> Iterator[Batch]:
        for first in range(0, len(self), batch_size):
            yield self.read(range(first, min(first + batch_size, len(self))), recipe)

    def read(self, rows, recipe: Recipe) -> Batch:
        """These rows read and prepared (a batch of the stream, or a gallery's few images)."""
        raw, positions, errors = [], [], {}
        for row in rows:
            row = int(row)
            if row in self.refused:
                errors[row] = self.refused[row]
                continue
            try:
                raw.append(self.arrays[row] if self.arrays is not None
                           else decode(self.paths[row], recipe))
                positions.append(row)
            except UnusableImage as exc:
                errors[row] = str(exc)
        images, kept, reasons = recipe.prepare(raw)
        errors.update({positions[i]: reason for i, reason in reasons.items()})
        return Batch(np.asarray([positions[i] for i in kept], dtype=np.int64), images, errors)


class UnusableImage(Exception):
    """One file cannot be used; the message says why (the others go on)."""


def decode(path: Path, recipe: Recipe) -> np.ndarray:
    """One file as uint8 (C, H, W) as the run's source would read it: size checked from the
    header first, so a huge or wrongly sized image is refused before it is decoded."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise UnusableImage("not an image file (" + ", ".join(sorted(IMAGE_SUFFIXES)) + ")")
    from PIL import Image

    try:
        with Image.open(path) as img:
            (width, height), file_mode = img.size, img.mode
        if width * height > MAX_PIXELS:
            raise UnusableImage(f"{width}x{height} pixels is more than the limit of "
                                f"{MAX_PIXELS / 1e6:.1f} million")
        if recipe.size is None and (problem := recipe.size_problem(height, width)):
            raise UnusableImage(problem)
        return read_image(path, recipe.decode_mode(file_mode), recipe.size)
    except UnusableImage:
        raise
    except Exception as exc:  # PIL raises many types for broken files
        raise UnusableImage(f"cannot decode: {type(exc).__name__}: {exc}") from None


def open_input(text: str, settings: Settings, workdir: Path, recipe: Recipe) -> NewImages:
    """The images INPUT names: a folder, an image file, a .zip (unpacked, checked, into workdir)
    or a dataset spec (its images before steps: the run's own preprocessing is applied)."""
    path = Path(str(text)).expanduser()
    if path.is_dir():
        return from_folder(path, text)
    if path.is_file():
        if path.suffix.lower() == ".zip":
            return from_zip(path, workdir)
        return NewImages([path.name], InputKind.IMAGE, text, paths=[path])
    if "?" not in str(text) and ("/" in str(text) or Path(str(text)).suffix):
        raise UserError(f"{text}: no such file or folder")
    try:
        spec = DatasetSpec.from_text(str(text))
        from core.data.sources import get_source

        get_source(spec.source)
    except UserError as exc:
        raise UserError(f"{text} is not a folder, an image, a .zip or a dataset spec ({exc})") \
            from None
    return from_spec(spec, settings, recipe)


def from_folder(folder: Path, where: str | None = None,
                roots: tuple[Path, ...] | None = None) -> NewImages:
    """Every file under folder, any depth. With roots (a folder typed in the browser), a file
    that is a link leading out of them is refused."""
    files = image_files(folder)
    if not files:
        raise UserError(f"{where or folder} holds no files")
    if len(files) > MAX_FILES:
        raise UserError(f"{where or folder} holds {len(files):,} files, more than the limit of "
                        f"{MAX_FILES:,}; split it")
    names = [p.relative_to(folder).as_posix() for p in files]
    refused = {} if roots is None else {
        i: "a link that leads outside the allowed data folders" for i, p in enumerate(files)
        if not any(r == p.resolve() or r in p.resolve().parents for r in roots)}
    return NewImages(names, InputKind.FOLDER, str(where or folder), paths=files, refused=refused)


def from_zip(path: Path, workdir: Path) -> NewImages:
    from core.data.archive import extract_zip

    if path.stat().st_size > MAX_UPLOAD_BYTES:
        raise UserError(f"{path.name} is larger than the limit of {MAX_UPLOAD_BYTES / 2**20:.0f} MiB")
    folder = extract_zip(path, workdir, path.name)
    images = from_folder(folder, str(path))
    images.kind = InputKind.ZIP
    return images


def from_spec(spec: DatasetSpec, settings: Settings, recipe: Recipe) -> NewImages:
    """A dataset's images, every split, with their classes. Steps of the spec other than the
    run's are refused: the run's own preprocessing is what new images get."""
    from core.data.dataset import load_raw, select_classes
    from core.data.sources import get_source
    from core.data.sources.base import capability

    if spec.steps and tuple(spec.steps) != recipe.steps:
        raise UserError(f"leave steps= out of the input spec: the run's own preprocessing "
                        f"({', '.join(recipe.steps) or 'none'}) is applied to new images")
    if capability(get_source(spec.source), "resizable"):
        spec = spec.with_(size=spec.size or recipe.size, mode=spec.mode or recipe.mode)
    raw, _ = load_raw(spec.with_(steps=()), settings)
    parts = [("train", raw.train_images, raw.train_labels)]
    if raw.test_images is not None:
        parts.append(("test", raw.test_images, raw.test_labels))
    names, images, labels = [], [], []
    for split, split_images, split_labels in parts:
        keep, ids, classes = select_classes(split_labels, list(raw.classes), spec.classes)
        names += [f"{split}/{i}" for i in np.flatnonzero(keep)]
        images.append(split_images[keep])
        labels += [classes[int(i)] for i in ids]
    if not names:
        raise UserError(f"{spec.to_text()} has no images")
    return NewImages(names, InputKind.DATASET, spec.to_text(), arrays=np.concatenate(images),
                     labels=labels)
