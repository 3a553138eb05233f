"""The workspace cache makes second loads file reads; typed paths stay inside data roots."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from core.data.dataset import load_dataset
from core.errors import PathNotAllowed
from core.settings import Settings
from tests import data_writers as dw


def test_second_load_comes_from_the_cache_and_equals_the_first(settings, data_root: Path) -> None:
    dw.write_mnist_idx(data_root, n_train=50, n_test=10)
    first = load_dataset(f"mnist?root={data_root}", settings)
    second = load_dataset(f"mnist?root={data_root}", settings)
    assert not first.from_cache and second.from_cache
    np.testing.assert_array_equal(first.images, second.images)
    np.testing.assert_array_equal(first.split, second.split)
    assert len(list(settings.cache_dir.iterdir())) == 1


def test_changed_files_invalidate_the_cache(settings, data_root: Path) -> None:
    dw.write_mnist_idx(data_root, n_train=50, n_test=10)
    load_dataset(f"mnist?root={data_root}", settings)
    dw.write_mnist_idx(data_root, n_train=60, n_test=10, seed=1)
    reloaded = load_dataset(f"mnist?root={data_root}", settings)
    assert not reloaded.from_cache and len(reloaded.labels) == 70


def test_a_damaged_cache_is_ignored(settings) -> None:
    load_dataset("digits", settings)
    (entry,) = settings.cache_dir.iterdir()
    (entry / "train_images.npy").write_bytes(b"garbage")
    ds = load_dataset("digits", settings)
    assert not ds.from_cache and ds.images.shape == (1797, 1, 8, 8)


def test_steps_and_class_subsets_reuse_one_cache_entry(settings) -> None:
    load_dataset("digits", settings)
    ds = load_dataset("digits?classes=1,7&steps=resize:16", settings)
    assert ds.from_cache and ds.shape == (1, 16, 16) and ds.classes == ("1", "7")


def test_paths_outside_the_data_roots_are_refused(settings, data_root: Path, tmp_path: Path) -> None:
    (data_root / "mine").mkdir()
    assert settings.check_path(data_root / "mine") == (data_root / "mine").resolve()
    for bad in ["/etc", str(data_root / ".." / "workspace"), str(tmp_path)]:
        with pytest.raises(PathNotAllowed, match="outside the allowed data folders"):
            settings.check_path(bad)
    os.symlink("/etc", data_root / "sneaky")
    with pytest.raises(PathNotAllowed):
        settings.check_path(data_root / "sneaky")


def test_settings_come_from_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DASH_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("DASH_DATA_ROOTS", os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))
    s = Settings.from_env()
    assert s.workspace == (tmp_path / "ws").resolve()
    assert s.data_roots == ((tmp_path / "a").resolve(), (tmp_path / "b").resolve())
    monkeypatch.delenv("DASH_DATA_ROOTS")
    assert Settings.from_env().data_roots[0] == (tmp_path / "ws" / "data").resolve()
