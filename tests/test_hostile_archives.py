"""Hostile zips: each is refused with one line naming the entry and the problem before anything
is written; what held before (slip, absolute, links, bombs, entry counts) still holds; two
sessions unpacking one zip at once both get the folder; the uploads folder stays usable."""
from __future__ import annotations

import threading
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from core.data.archive import check_zip, extract_zip
from core.data.dataset import load_dataset
from core.errors import UnsafeArchive
from tests import data_writers as dw
from tests.hostile import assert_one_line

PNG = dw.png_bytes(Image.new("RGB", (8, 8), (200, 40, 40)))


def _encrypted(path: Path) -> Path:
    dw.write_zip_entries(path, [("cats/a.png", PNG), ("dogs/b.png", PNG)])
    return dw.set_zip_flag_and_method(path, flag_bits=0x1)


def _unknown_method(path: Path) -> Path:
    dw.write_zip_entries(path, [("cats/a.png", PNG), ("dogs/b.png", PNG)])
    return dw.set_zip_flag_and_method(path, method=99)  # AE-x encryption's method number


def _long_name(path: Path) -> Path:
    return dw.write_zip_entries(path, [("cats/" + "n" * 300 + ".png", PNG), ("dogs/b.png", PNG)])


def _long_path(path: Path) -> Path:
    deep = "/".join(["d" * 200] * 20) + "/x.png"  # every name fine, the whole past PATH_MAX
    return dw.write_zip_entries(path, [(deep, PNG), ("dogs/b.png", PNG)])


def _file_and_folder(path: Path) -> Path:
    return dw.write_zip_entries(path, [("cats", b"a file"), ("cats/a.png", PNG)])


def _dot(path: Path) -> Path:
    return dw.write_zip_entries(path, [(".", b"x"), ("dogs/b.png", PNG)])


def _twice(path: Path) -> Path:
    with pytest.warns(UserWarning, match="Duplicate name"):
        return dw.write_zip_entries(path, [("cats/a.png", PNG), ("cats/a.png", PNG)])


@pytest.mark.parametrize("writer, problem", [
    (_encrypted, "'cats/a.png' is encrypted"),
    (_unknown_method, "'cats/a.png' uses compression method 99"),
    (_long_name, "has a name longer than 255 bytes"),
    (_long_path, "has a path longer than"),
    (_file_and_folder, "'cats' is both a file and a folder"),
    (_dot, "'.' is a file without a name"),
    (_twice, "two entries are named 'cats/a.png'"),
    (dw.write_zip_slip, "'../evil.txt' points outside the archive"),
    (dw.write_zip_absolute, "'/tmp/evil_abs.txt' has an absolute path"),
    (dw.write_zip_symlink, "'link' is a symbolic link"),
    (lambda p: dw.write_zip_bomb(p, 40), "unpacks to more than 32 MiB"),
], ids=["encrypted", "compression", "long-name", "long-path", "file-and-folder", "dot", "twice",
        "slip", "absolute", "symlink", "bomb"])
def test_hostile_zips_are_refused_and_write_nothing(settings, tmp_path, writer, problem) -> None:
    archive = writer(tmp_path / "bad.zip")
    with pytest.raises(UnsafeArchive) as refused:
        extract_zip(archive, settings.uploads_dir, "bad.zip", max_bytes=32 * 2**20)
    assert_one_line(str(refused.value), problem)
    assert not settings.uploads_dir.exists() or not any(settings.uploads_dir.iterdir())
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil_abs.txt").exists()
    good = extract_zip(dw.write_good_zip(tmp_path / "good.zip"), settings.uploads_dir, "good.zip")
    assert load_dataset(f"folder?root={good}", settings).classes == ("cats", "dogs")


def test_too_many_entries_are_refused(settings, tmp_path) -> None:
    archive = dw.write_zip_entries(tmp_path / "many.zip", [(f"c{i % 2}/{i}.png", b"")
                                                          for i in range(30)])
    with zipfile.ZipFile(archive) as zf, pytest.raises(UnsafeArchive) as refused:
        check_zip(zf, max_files=20)
    assert_one_line(str(refused.value), "30 entries, more than the limit of 20")


def test_a_folder_entry_named_dot_slash_is_harmless(settings, tmp_path) -> None:
    archive = dw.write_zip_entries(tmp_path / "dot.zip", [("./", b""), ("cats/a.png", PNG),
                                                          ("dogs/b.png", PNG)])
    folder = extract_zip(archive, settings.uploads_dir, "dot.zip")
    assert sorted(p.name for p in folder.iterdir()) == ["cats", "dogs"]


def test_two_sessions_unpacking_one_zip_at_once_both_get_it(settings, tmp_path) -> None:
    data = dw.write_good_zip(tmp_path / "pets.zip", n_per_class=150).read_bytes()
    results, errors = [], []

    def unpack() -> None:
        try:
            results.append(extract_zip(data, settings.uploads_dir, "pets.zip"))
        except Exception as exc:  # noqa: BLE001 - any exception is the failure under test
            errors.append(exc)

    threads = [threading.Thread(target=unpack) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(results)) == 1
    assert [p.name for p in settings.uploads_dir.iterdir()] == [results[0].name]  # no temps
    assert len(load_dataset(f"folder?root={results[0]}", settings).labels) == 300
