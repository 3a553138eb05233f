"""Where the dashboard keeps its files and which folders a user may point it at.

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
        resolved = Path(path).expanduser()
        if not resolved.is_absolute():
            resolved = Path.cwd() / resolved
        resolved = resolved.resolve()
        for root in self.allowed_roots:
            if resolved == root or root in resolved.parents:
                return resolved
        allowed = ", ".join(str(r) for r in self.allowed_roots)
        raise PathNotAllowed(
            f"{path} is outside the allowed data folders ({allowed}). "
            "Put the data under one of them or set DASH_DATA_ROOTS."
        )
