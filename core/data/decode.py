"""Decode image files into uint8 (C, H, W) arrays, in parallel worker processes for big folders.

Each file is bounded before its pixels are decoded: JPEGs are decoded at a reduced scale when a
size is chosen (PIL `draft`), and an image whose decoded pixel count is over MAX_IMAGE_PIXELS is
refused from its header. 16-bit images are scaled to 0..255, not clipped; 32-bit float images
by their range (0..1 times 255, else min..max); transparent images are composited onto the
background their strokes stand out from. Workers are
separate processes (PIL decoding holds the GIL), at most one per usable core; a multi-threaded
parent (the Streamlit server) starts them through a forkserver, never by forking itself.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import types
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import DatasetError
from core.settings import MAX_DATASET_BYTES, MAX_IMAGE_PIXELS

CHUNK = 256  # files per worker task: a progress step, and what one worker holds at a time
MIN_FILES_PER_WORKER = 400  # below this a worker's start-up costs more than it saves
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
Progress = Callable[[float, str], None]


class ImageRefused(ValueError):
    """A file that is an image but is not decoded (too many pixels)."""


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def worker_count(n_files: int) -> int:
    """Processes for n_files: none below MIN_FILES_PER_WORKER, never more than the cores."""
    return min(usable_cores(), n_files // MIN_FILES_PER_WORKER)


def _scaled_16bit(img):
    """A 16-bit grayscale image as 8-bit L, scaled (65535 -> 255) rather than clipped."""
    from PIL import Image

    array = np.asarray(img).astype(np.float32) * (255.0 / 65535.0)
    return Image.fromarray(np.clip(np.rint(array), 0, 255).astype(np.uint8), "L")


def _scaled_float(img):
    """A 32-bit float image as 8-bit L: values within 0..1 (the usual convention) times 255, any
    other range stretched from its minimum to its maximum; NaN and infinities count as 0. A plain
    cast would clip 0..1 to black."""
    from PIL import Image

    array = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
    if lo >= 0.0 and hi <= 1.0:
        lo, hi = 0.0, 1.0
    scaled = (array - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(array)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), "L")


def _flattened(img):
    """An image with transparency composited onto the background its visible pixels stand out
    from: white under dark strokes, black under light ones (judged by the alpha-weighted mean
    brightness). Dropping alpha would keep the colour of transparent pixels, usually black, so
    black strokes on a transparent sheet would vanish."""
    from PIL import Image

    if img.mode == "P" and "transparency" in img.info or img.mode in ("PA", "La"):
        img = img.convert("RGBA")
    if img.mode not in ("RGBA", "LA", "RGBa"):
        return img
    rgba = np.asarray(img.convert("RGBA"), dtype=np.float32)
    alpha = rgba[..., 3:] / 255.0
    weight = float(alpha.sum())
    brightness = float((rgba[..., :3].mean(-1, keepdims=True) * alpha).sum() / weight) if weight else 0.0
    background = 255.0 if brightness < 128.0 else 0.0
    flat = rgba[..., :3] * alpha + background * (1.0 - alpha)
    return Image.fromarray(np.clip(np.rint(flat), 0, 255).astype(np.uint8), "RGB")


def constant_images(images: np.ndarray) -> np.ndarray:
    """Indices of images (N, C, H, W) whose every pixel has the same value: nothing to learn or
    score. One pass per chunk of rows, so a large dataset is not copied."""
    out = []
    for start in range(0, len(images), 4096):
        flat = images[start:start + 4096].reshape(min(4096, len(images) - start), -1)
        if flat.shape[1]:
            out.append(start + np.flatnonzero(flat.min(1) == flat.max(1)))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def constant_warning(n_constant: int, n: int, what: str = "images") -> str | None:
    """The warning pages and the CLI show when images decode to one flat value, or None."""
    if not n_constant:
        return None
    return (f"{n_constant:,} of {n:,} {what} decode to a single flat value (every pixel the same): "
            "blank files, or a format whose values could not be read as pixels")


def decode_file(path: str | Path, mode: str, size: int | None) -> np.ndarray:
    """One file as uint8 (C, H, W) in mode ("L" or "RGB"), resized to size x size if given."""
    from PIL import Image

    with warnings.catch_warnings():
        # Our own pixel limit is below PIL's warning threshold; its warning would only be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as img:
            if size is not None and img.format == "JPEG":
                img.draft(mode, (size, size))  # decode at 1/2, 1/4 or 1/8 scale, still >= size
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageRefused(f"{width}x{height} is {width * height / 1e6:.0f} megapixels, "
                                   f"over the limit of {MAX_IMAGE_PIXELS / 1e6:.0f}")
            img.load()
            if img.mode in SIXTEEN_BIT_MODES:
                img = _scaled_16bit(img)
            elif img.mode == "F":
                img = _scaled_float(img)
            img = _flattened(img)
            img = img.convert(mode)
            if size is not None and img.size != (size, size):
                img = img.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)
            array = np.asarray(img, dtype=np.uint8)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def decode_chunk(paths: Sequence[str], mode: str,
                 size: int | None) -> list[np.ndarray | str]:
    """Each file's array, or the reason it was skipped (a worker task; never raises for a file)."""
    out: list[np.ndarray | str] = []
    for path in paths:
        try:
            out.append(np.ascontiguousarray(decode_file(path, mode, size)))
        except ImageRefused as exc:
            out.append(f"too large: {exc}")
        except Exception as exc:  # PIL raises many types for broken files
            out.append(f"cannot decode: {type(exc).__name__}: {exc}")
    return out


@dataclass
class Decoded:
    """The decoded images in path order, which paths they are, and why the others were skipped."""

    images: np.ndarray  # uint8 (len(kept), C, H, W)
    kept: np.ndarray  # int64 indices into the paths given
    reasons: dict[int, str]  # path index -> why it was skipped


class _Collector:
    """Copies each finished chunk into one preallocated array, so the parent never holds the
    images twice: a row per path, compacted in place once all are in."""

    def __init__(self, n: int, where: str):
        self.n, self.where = n, where
        self.out: np.ndarray | None = None
        self.ok = np.zeros(n, dtype=bool)
        self.reasons: dict[int, str] = {}
        self.shapes: dict[tuple, int] = {}

    def add(self, start: int, results: list[np.ndarray | str]) -> None:
        for i, result in enumerate(results, start):
            if isinstance(result, str):
                self.reasons[i] = result
                continue
            self.shapes[result.shape] = self.shapes.get(result.shape, 0) + 1
            if self.out is None:
                self._allocate(result)
            if result.shape == self.out.shape[1:]:
                self.out[i] = result
                self.ok[i] = True

    def _allocate(self, first: np.ndarray) -> None:
        if self.n * first.nbytes > MAX_DATASET_BYTES:
            raise DatasetError(f"images in {self.where} decode to more than "
                               f"{MAX_DATASET_BYTES / 2**30:.0f} GiB of pixels "
                               f"({self.n:,} of {first.shape[2]}x{first.shape[1]}); "
                               "choose a smaller size (or fewer classes)")
        self.out = np.empty((self.n, *first.shape), dtype=np.uint8)

    def result(self) -> Decoded:
        if len(self.shapes) > 1:
            listed = ", ".join(f"{w}x{h} ({n} images)" for (_, h, w), n in
                               sorted(self.shapes.items(), key=lambda kv: -kv[1])[:5])
            raise DatasetError(f"images in {self.where} have different sizes ({listed}); "
                               "choose a size to resize them to")
        kept = np.flatnonzero(self.ok)
        if self.out is None:
            return Decoded(np.empty((0, 1, 1, 1), np.uint8), kept, self.reasons)
        for row, source in enumerate(kept):  # in place: a copy would double the peak
            if row != source:
                self.out[row] = self.out[source]
        return Decoded(self.out[:len(kept)], kept, self.reasons)


def decode_all(paths: Sequence[Path], mode: str, size: int | None, where: str,
               progress: Progress | None = None) -> Decoded:
    """decode_chunk over every path, in worker processes when there are enough files.

    Reports (images done / total) after each chunk. Refuses the folder as soon as the first
    image shows the pixels will not fit in MAX_DATASET_BYTES, and images of different sizes.
    """
    names = [str(p) for p in paths]
    starts = range(0, len(names), CHUNK)
    collector, total = _Collector(len(names), where), len(names)
    done = 0

    def finished(start: int, results: list[np.ndarray | str]) -> None:
        nonlocal done
        collector.add(start, results)
        done += len(results)
        if progress is not None:
            progress(done / max(total, 1), f"reading images {done:,}/{total:,}")

    workers = worker_count(total)
    if workers <= 1:
        for start in starts:
            finished(start, decode_chunk(names[start:start + CHUNK], mode, size))
    else:
        _decode_in_pool([(start, names[start:start + CHUNK]) for start in starts], mode, size,
                        workers, finished)
    return collector.result()


def _start_method() -> str:
    """fork when this process runs one thread (a CLI, a script: nothing to re-import, and
    forking is safe); forkserver under a threaded server, which must never be forked."""
    return "fork" if threading.active_count() == 1 else "forkserver"


@contextmanager
def _main_script_hidden():
    """While worker processes start: a spawned or forkserver child imports the parent's __main__
    again (as __mp_main__), and under Streamlit __main__ is the page script, which would run once
    more in every worker with no session. An empty __main__ has nothing to import."""
    saved, placeholder = sys.modules.get("__main__"), types.ModuleType("__main__")
    sys.modules["__main__"] = placeholder
    try:
        yield
    finally:
        if sys.modules.get("__main__") is placeholder and saved is not None:
            sys.modules["__main__"] = saved  # unless a script run has set its own meanwhile


def _decode_in_pool(chunks: list[tuple[int, list[str]]], mode: str, size: int | None,
                    workers: int, finished: Callable[[int, list], None]) -> None:
    """Keep at most two chunks per worker in flight, so finished arrays never pile up unread."""
    context = multiprocessing.get_context(_start_method())
    pending: dict = {}
    next_chunk = 0
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        while next_chunk < len(chunks) or pending:
            with _main_script_hidden():  # a submit may start a worker
                while next_chunk < len(chunks) and len(pending) < 2 * workers:
                    start, names = chunks[next_chunk]
                    pending[pool.submit(decode_chunk, names, mode, size)] = start
                    next_chunk += 1
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                finished(pending.pop(future), future.result())
    except BrokenProcessPool:
        raise DatasetError("an image decoding process died (out of memory?); choose a smaller "
                           "size or fewer images") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
