"""Uploaded zips: a good one reads as an image folder; unsafe ones are refused before any write."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.data.archive import extract_zip
from core.data.dataset import load_dataset
from core.errors import UnsafeArchive
from tests import data_writers as dw


def test_good_zip_unpacks_and_loads_as_a_folder(settings, tmp_path: Path) -> None:
    archive = dw.write_good_zip(tmp_path / "pets.zip", n_per_class=3)
    folder = extract_zip(archive, settings.uploads_dir, "pets.zip")
    assert folder.parent == settings.uploads_dir and folder.name.startswith("pets-")
    assert sorted(p.name for p in folder.iterdir()) == ["cats", "dogs"]  # macOS junk dropped
    assert not (settings.uploads_dir / "__MACOSX").exists()
    ds = load_dataset(f"folder?root={folder}", settings)
    assert ds.classes == ("cats", "dogs") and len(ds.labels) == 6 and not ds.skipped
    # the same bytes uploaded again reuse the folder instead of unpacking twice
    assert extract_zip(archive.read_bytes(), settings.uploads_dir, "again.zip").name.endswith(
        folder.name.split("-")[-1])


@pytest.mark.parametrize("writer, message", [
    (dw.write_zip_slip, r"outside the archive \(\.\.\)"),
    (dw.write_zip_absolute, "absolute path"),
    (dw.write_zip_symlink, "symbolic link"),
    (dw.write_zip_bomb, "unpacks to more than"),
])
def test_unsafe_zips_are_refused_and_write_nothing(tmp_path: Path, writer, message: str) -> None:
    archive = writer(tmp_path / "bad.zip")
    dest = tmp_path / "uploads"
    with pytest.raises(UnsafeArchive, match=message):
        extract_zip(archive, dest, "bad.zip", max_bytes=32 * 2**20)
    assert not dest.exists() or not any(dest.iterdir())
    assert not (tmp_path / "evil.txt").exists()


def test_not_a_zip_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UnsafeArchive, match="not a zip file"):
        extract_zip(b"hello, not a zip", tmp_path / "uploads")
