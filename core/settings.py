"""Where the dashboard keeps its files, which folders a user may point it at, and the limits
every input is checked against before it is trusted.

Environment overrides: DASH_WORKSPACE (default ./workspace) and DASH_DATA_ROOTS
(os.pathsep-separated; default: <workspace>/data and ./data), DASH_WEIGHTS (shipped runs,
default <repo>/weights).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import PathNotAllowed

REPO_ROOT = Path(__file__).resolve().parent.parent
MAX_UPLOAD_BYTES = 1 << 30  # unpacked size limit for an uploaded zip (1 GiB)
MAX_UPLOAD_FILES = 200_000
MAX_DATASET_BYTES = 1 << 30  # a loaded dataset's uint8 pixels (K49 is 0.2 GiB, CIFAR 0.18 GiB)
MAX_IMAGE_PIXELS = 40_000_000  # decoded pixels of one image file (after JPEG draft scaling)
MAX_FOLDER_FILES = 500_000  # files listed under an image folder
MAX_CLASSES = 1000  # classes one dataset may declare
MAX_PATH_CHARS = 4096  # PATH_MAX on Linux
MAX_NAME_BYTES = 255  # NAME_MAX: one path component, in bytes


def clean_path(text: str | Path) -> Path:
    """A typed path, stripped, with `~` expanded and made absolute; PathNotAllowed if it cannot
    name a file here (a NUL byte, an unknown user, a component or the whole path too long)."""
    raw = str(text).strip()
    shown = repr(raw[:80] + ("..." if len(raw) > 80 else ""))
    if not raw:
        raise PathNotAllowed("no folder given")
    if "\x00" in raw:
        raise PathNotAllowed(f"path {shown} contains a NUL byte")
    if len(raw.encode("utf-8", "surrogateescape")) > MAX_PATH_CHARS:
        raise PathNotAllowed(f"path {shown} is longer than {MAX_PATH_CHARS} bytes")
    for part in Path(raw).parts:
        if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
            raise PathNotAllowed(f"path {shown} has a name longer than {MAX_NAME_BYTES} bytes")
    try:
        path = Path(raw).expanduser()
    except RuntimeError:  # ~name of a user this machine does not know
        raise PathNotAllowed(f"path {shown}: no such user's home folder") from None
    return path if path.is_absolute() else Path.cwd() / path


def resolve(path: Path) -> Path:
    """path with every link followed; PathNotAllowed for a link loop or an unreadable step."""
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:
        raise PathNotAllowed(f"{path} cannot be resolved: {exc}") from None


def is_inside(path: Path, roots: tuple[Path, ...] | list[Path]) -> bool:
    """Whether the already resolved path is one of roots or lies under one."""
    return any(path == root or root in path.parents for root in roots)


@dataclass(frozen=True)
class Settings:
    workspace: Path = Path("workspace")
    data_roots: tuple[Path, ...] = field(default_factory=tuple)
    shipped_dir: Path = REPO_ROOT / "weights"

    @classmethod
    def from_env(cls) -> Settings:
        workspace = Path(os.environ.get("DASH_WORKSPACE", "workspace")).resolve()
        roots_env = os.environ.get("DASH_DATA_ROOTS", "")
        roots = [Path(p) for p in roots_env.split(os.pathsep) if p.strip()]
        if not roots:
            roots = [workspace / "data", Path("data")]
        shipped = Path(os.environ.get("DASH_WEIGHTS", REPO_ROOT / "weights")).resolve()
        return cls(workspace=workspace, data_roots=tuple(p.resolve() for p in roots),
                   shipped_dir=shipped)

    @property
    def cache_dir(self) -> Path:
        return self.workspace / "cache"

    @property
    def runs_dir(self) -> Path:
        return self.workspace / "runs"

    @property
    def uploads_dir(self) -> Path:
        return self.workspace / "data" / "uploads"

    @property
    def allowed_roots(self) -> tuple[Path, ...]:
        """The data roots plus the app's own data folder (uploads unpack there), always."""
        own = (self.workspace / "data").resolve()
        return self.data_roots + (() if own in self.data_roots else (own,))

    def check_path(self, path: str | Path) -> Path:
        """Resolve a typed path and refuse it unless it lies inside a data root.

        Resolving first means `..` and symlinks cannot be used to step outside a root.
        """
        resolved = resolve(clean_path(path))
        if not is_inside(resolved, self.allowed_roots):
            allowed = ", ".join(str(r) for r in self.allowed_roots) or "(none configured)"
            raise PathNotAllowed(
                f"{str(path).strip()} is outside the allowed data folders ({allowed}). "
                "Put the data under one of them or set DASH_DATA_ROOTS."
            )
        return resolved
