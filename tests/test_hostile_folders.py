"""Hostile image folders and typed paths: links out of the data roots, pixel bombs, 16-bit
PNGs, paths that are not paths. Each gets one clear line (or a skipped entry naming the file),
memory stays bounded, and nothing reached through a link outside the roots is read or listed."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.data.dataset import load_dataset
from core.data.sources.folder import LINK_OUTSIDE
from core.errors import DatasetError, PathNotAllowed
from tests import data_writers as dw
from tests.hostile import MAX_PEAK_MIB, assert_one_line, load_in_subprocess

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


def _outside_images(tmp_path: Path) -> Path:
    """A class-shaped folder of real images outside every data root."""
    return dw.write_image_folder(tmp_path / "outside", classes=("private",), corrupt=False,
                                 stray_text=False)["root"] / "private"


# -- links ------------------------------------------------------------------------------------
def test_a_class_folder_linking_outside_the_roots_is_not_read(settings, data_root, tmp_path):
    dw.write_image_folder(data_root / "pets", corrupt=False, stray_text=False)
    os.symlink(_outside_images(tmp_path), data_root / "pets" / "stolen")
    os.symlink("/etc", data_root / "pets" / "etc")
    ds = load_dataset(f"folder?root={data_root / 'pets'}", settings)
    assert ds.classes == ("Negative", "Positive") and len(ds.labels) == 8
    assert sorted(ds.skipped) == [(str(data_root / "pets" / "etc"), LINK_OUTSIDE),
                                  (str(data_root / "pets" / "stolen"), LINK_OUTSIDE)]


def test_a_file_linking_outside_is_skipped_and_one_inside_is_read(settings, data_root, tmp_path):
    info = dw.write_image_folder(data_root / "pets", corrupt=False, stray_text=False)
    first = info["files"]["all"]["Negative"][0]
    outside = _outside_images(tmp_path) / "img_0.png"
    os.symlink(outside, data_root / "pets" / "Negative" / "leak.png")
    os.symlink(first, data_root / "pets" / "Positive" / "inside.png")
    ds = load_dataset(f"folder?root={data_root / 'pets'}", settings)
    assert len(ds.labels) == 9  # 8 + the link that stays inside
    assert ds.skipped == ((str(data_root / "pets" / "Negative" / "leak.png"), LINK_OUTSIDE),)


def test_link_loops_dangling_links_and_deep_nesting_do_not_break_a_load(settings, data_root):
    dw.write_image_folder(data_root / "pets", corrupt=False, stray_text=False)
    os.symlink("loop", data_root / "pets" / "loop")  # points at itself
    os.symlink("/no/such/target", data_root / "pets" / "Negative" / "dangling.png")
    deep = data_root / "pets" / "Positive" / Path(*["d"] * 40)
    deep.mkdir(parents=True)
    ds = load_dataset(f"folder?root={data_root / 'pets'}", settings)
    assert ds.classes == ("Negative", "Positive") and len(ds.labels) == 8
    assert [reason for _, reason in ds.skipped] == ["more than 32 folders deep"]


def test_the_dataset_root_itself_may_not_be_a_link_out(settings, data_root, tmp_path) -> None:
    os.symlink(_outside_images(tmp_path).parent, data_root / "sneaky")
    with pytest.raises(PathNotAllowed) as refused:
        settings.check_path(data_root / "sneaky")
    assert_one_line(str(refused.value), "outside the allowed data folders")


# -- pixel bombs ----------------------------------------------------------------------------
def test_huge_pngs_are_skipped_from_their_header_with_bounded_memory(settings, data_root):
    """6 x 9000x9000 RGB PNGs (81 MP each, under PIL's own bomb limit): 4.4 GiB decoded."""
    folder = data_root / "bomb"
    big = dw.write_png_of_size(folder / "Negative" / "big_0.png", 9000, 9000, "RGB")
    bombs = [big] + [folder / cls / f"big_{i}.png" for cls, i in
                     (("Negative", 1), ("Negative", 2), ("Positive", 3), ("Positive", 4),
                      ("Positive", 5))]
    for path in bombs[1:]:
        path.parent.mkdir(exist_ok=True)
        shutil.copy(big, path)
    out = load_in_subprocess(f"folder?root={folder}", settings.workspace, data_root)
    assert_one_line(out["error"], f"no readable images in {folder}", "6 files skipped")
    assert out["peak_mib"] < MAX_PEAK_MIB
    dw.write_image_folder(folder, corrupt=False, stray_text=False)  # now with normal images
    out = load_in_subprocess(f"folder?root={folder}&size=32", settings.workspace, data_root)
    assert out["error"] is None and out["n"] == 8 and out["peak_mib"] < MAX_PEAK_MIB
    ds = load_dataset(f"folder?root={folder}&size=32", settings)  # from the cache now
    reasons = dict(ds.skipped)
    assert sorted(reasons) == sorted(str(p) for p in bombs)
    assert_one_line(reasons[str(big)], "too large", "9000x9000", "81 megapixels")
    cache_bytes = sum(p.stat().st_size for p in settings.cache_dir.rglob("*") if p.is_file())
    assert cache_bytes < 1 << 20


def test_a_huge_jpeg_is_decoded_at_a_reduced_scale_when_a_size_is_chosen(settings, data_root):
    from PIL import Image

    folder = data_root / "photos"
    dw.write_image_folder(folder, corrupt=False, stray_text=False)
    Image.new("RGB", (9000, 9000), (200, 30, 30)).save(folder / "Positive" / "huge.jpg")
    ds = load_dataset(f"folder?root={folder}&size=32&mode=RGB", settings)
    assert len(ds.labels) == 9 and not ds.skipped  # 81 MP, but decoded at 1/8 scale
    huge = ds.images[ds.labels == 1][0]  # huge.jpg sorts before img_*
    assert abs(int(huge[0].mean()) - 200) <= 3 and int(huge[1].mean()) <= 35
    full = load_dataset(f"folder?root={folder}&mode=RGB", settings)  # no size: all 81 MP
    assert len(full.labels) == 8
    assert_one_line(dict(full.skipped)[str(folder / "Positive" / "huge.jpg")], "too large")


def test_a_folder_over_the_dataset_limit_is_refused_before_decoding(settings, data_root,
                                                                    monkeypatch) -> None:
    import core.data.decode
    import core.data.sources.folder

    dw.write_image_folder(data_root / "many", n_per_class=6, corrupt=False, stray_text=False)
    for module in (core.data.sources.folder, core.data.decode):
        monkeypatch.setattr(module, "MAX_DATASET_BYTES", 12 * 20 * 16 - 1)  # one byte short
    with pytest.raises(DatasetError) as planned:
        load_dataset(f"folder?root={data_root / 'many'}&size=64&mode=L", settings)
    assert_one_line(str(planned.value), "12 images of 64x64", "choose a smaller size")
    with pytest.raises(DatasetError) as running:  # no size: counted while decoding
        load_dataset(f"folder?root={data_root / 'many'}&mode=L", settings)
    assert_one_line(str(running.value), "decode to more than", "choose a smaller size")


# -- 16-bit images ---------------------------------------------------------------------------
def test_16bit_pngs_are_scaled_not_clipped(settings, data_root) -> None:
    values = np.array([[0, 257, 32768, 65535]] * 4, dtype=np.uint16)
    for name in ("dark", "light"):
        for i in range(2):
            dw.write_png_16bit(data_root / "depth" / name / f"{i}.png", values)
    ds = load_dataset(f"folder?root={data_root / 'depth'}", settings)
    assert ds.shape == (1, 4, 4)
    np.testing.assert_array_equal(ds.images[0, 0, 0], [0, 1, 128, 255])


# -- typed paths ------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, problem", [
    ("~no_such_user_here/data", "no such user's home folder"),
    ("~nobody", "outside the allowed data folders"),
    ("data\x00/evil", "NUL byte"),
    ("/" + "x" * 300, "longer than 255 bytes"),
    ("/" + "/".join(["y" * 200] * 25), "longer than 4096 bytes"),
    ("   ", "no folder given"),
], ids=["unknown-user", "nobody", "nul", "long-name", "long-path", "blank"])
def test_typed_paths_that_cannot_be_used_are_one_line(settings, typed, problem) -> None:
    with pytest.raises(PathNotAllowed) as refused:
        settings.check_path(typed)
    assert_one_line(str(refused.value), problem)


def test_spaces_around_a_typed_path_are_stripped(settings, data_root) -> None:
    (data_root / "my data").mkdir()
    assert settings.check_path(f"  {data_root / 'my data'}  \n") == data_root / "my data"


def test_a_path_to_a_file_says_so(settings, data_root, tmp_path) -> None:
    archive = dw.write_good_zip(data_root / "pets.zip")
    with pytest.raises(DatasetError) as refused:
        load_dataset(f"folder?root={archive}", settings)
    assert_one_line(str(refused.value), "pets.zip is a file, not a folder", "Upload it")


@pytest.mark.parametrize("root, problem", [("%00", "NUL byte"), ("/" + "z" * 300, "255 bytes")],
                         ids=["nul", "long-name"])
def test_hostile_roots_in_a_spec_are_one_line(settings, root, problem) -> None:
    with pytest.raises(PathNotAllowed) as refused:
        load_dataset(f"folder?root={root}", settings)
    assert_one_line(str(refused.value), problem)


@pytest.mark.parametrize("typed, problem", [
    ("~no_such_user_here", "no such user's home folder"), ("a\x00b", "NUL byte"),
    ("/" + "q" * 300, "longer than 255 bytes")], ids=["unknown-user", "nul", "long-name"])
def test_the_data_page_shows_a_hostile_path_as_one_line(settings, typed, problem) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("../pages/data.py").run()
    at.selectbox(key="ds_source").set_value("folder").run()
    at.text_input(key="ds_root_folder").set_value(typed).run()
    assert not at.exception, at.exception
    assert len(at.error) == 1
    assert_one_line(at.error[0].value, problem)
