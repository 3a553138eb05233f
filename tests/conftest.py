"""Shared fixtures: a private workspace and data root per test, so tests never share caches."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def settings(tmp_path: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for core calls; the same values in the environment for pages and subprocesses."""
    workspace = tmp_path / "workspace"
    monkeypatch.setenv("DASH_WORKSPACE", str(workspace))
    monkeypatch.setenv("DASH_DATA_ROOTS", str(data_root))
    return Settings.from_env()
