"""What every dataset source returns, and the registry the CLI and the pages list."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from core.errors import DatasetError
from core.data.spec import DatasetSpec
from core.settings import clean_path

Progress = Callable[[float, str], None]  # (fraction done 0..1, what is happening)


@dataclass
class RawData:
    """Arrays as the source gives them: uint8 (N, C, H, W), int64 labels, class names."""

    train_images: np.ndarray
    train_labels: np.ndarray
    classes: list[str]
    test_images: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    files: list[str] | None = None  # per row (train rows, then test): the file, for sources of files


class Source(Protocol):
    name: str
    title: str
    description: str
    needs_root: bool  # reads files from a folder given as root=...
    # What the dataset picker offers for this source (all optional, default False / ""):
    #   downloadable: bool   can fetch its files when the user asks (download=True)
    #   accepts_zip: bool    an uploaded .zip can be its root
    #   resizable: bool      takes size= and mode= (images of any size and colour)
    #   suggested_root: str  where its files usually sit, relative to the first data root

    def fingerprint(self, spec: DatasetSpec) -> str:
        """Cheap string that changes when the files behind the spec change."""

    def load(self, spec: DatasetSpec, download: bool, progress: Progress | None) -> RawData:
        """Read the arrays; raise DatasetError with a message a user can act on."""


_REGISTRY: dict[str, Source] = {}


def register(source: Source) -> Source:
    _REGISTRY[source.name] = source
    return source


def get_source(name: str) -> Source:
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise DatasetError(f"unknown source {name!r}; known sources: {known}") from None


def all_sources() -> list[Source]:
    _ensure_loaded()
    return list(_REGISTRY.values())


_DISCOVERED = False


def _ensure_loaded() -> None:
    """Import every module of this package once: each registers its sources when imported.

    So adding a source is adding a file here. Lazy, to keep `import core` light.
    """
    global _DISCOVERED
    if _DISCOVERED:
        return
    import importlib
    import pkgutil

    import core.data.sources as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name != "base" and not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
    _DISCOVERED = True


def require_root(spec: DatasetSpec) -> Path:
    """The spec's root as an absolute path; a clear error for a missing or malformed one."""
    if not spec.root or not spec.root.strip():
        raise DatasetError(f"source {spec.source!r} needs a root folder (root=...)")
    return clean_path(spec.root)


def files_fingerprint(paths: list[Path]) -> str:
    """Sizes and modification times: changes when a file is replaced, costs one stat each."""
    parts = []
    for p in sorted(paths):
        try:
            st = p.stat()
            parts.append(f"{p}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{p}:missing")
    return "|".join(parts)


CAPABILITIES = {"downloadable": False, "accepts_zip": False, "resizable": False,
                "suggested_root": ""}


def capability(source: Source, name: str):
    """A source's optional picker capability (see Source), or its default."""
    return getattr(source, name, CAPABILITIES[name])
