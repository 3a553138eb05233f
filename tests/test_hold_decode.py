"""Images that decoded to nothing without a word: black strokes on a transparent PNG (alpha
dropped), a float TIFF in 0..1 (cast to 0). Real files written with Pillow; a file that still
decodes to one flat value is named in a warning by describe, the Data page's dataset and predict."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.data.dataset import load_dataset
from core.data.decode import decode_file

STROKE = (slice(2, 6), slice(3, 5))  # a bar in the middle of an 8x8 image


def _rgba(path: Path, rgb: int, size: int = 8) -> Path:
    array = np.zeros((size, size, 4), dtype=np.uint8)  # transparent black everywhere
    array[STROKE] = (rgb, rgb, rgb, 255)
    Image.fromarray(array, "RGBA").save(path)
    return path


def _float_tiff(path: Path, array: np.ndarray) -> Path:
    Image.fromarray(array.astype(np.float32), "F").save(path)
    return path


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_black_strokes_on_a_transparent_png_stay_visible(tmp_path, mode) -> None:
    out = decode_file(_rgba(tmp_path / "digit.png", 0), mode, None)
    assert (out[:, STROKE[0], STROKE[1]] == 0).all()
    mask = np.ones((8, 8), bool)
    mask[STROKE] = False
    assert (out[:, mask] == 255).all()  # composited onto white, not left as transparent black


def test_white_strokes_on_a_transparent_png_go_on_black(tmp_path) -> None:
    out = decode_file(_rgba(tmp_path / "digit.png", 255), "L", None)[0]
    assert (out[STROKE] == 255).all() and out.sum() == 255 * 8


def test_half_transparent_pixels_are_blended(tmp_path) -> None:
    array = np.zeros((4, 4, 4), dtype=np.uint8)
    array[0, 0] = (0, 0, 0, 255)
    array[1, 1] = (0, 0, 0, 128)  # half-covered black over a white background
    Image.fromarray(array, "RGBA").save(tmp_path / "a.png")
    out = decode_file(tmp_path / "a.png", "L", None)[0]
    assert out[0, 0] == 0 and out[1, 1] == round(255 * (1 - 128 / 255)) and out[3, 3] == 255


def test_a_float_tiff_in_0_to_1_is_scaled_not_cast(tmp_path) -> None:
    values = np.linspace(0.0, 1.0, 64).reshape(8, 8)
    out = decode_file(_float_tiff(tmp_path / "x.tif", values), "L", None)[0]
    np.testing.assert_array_equal(out, np.rint(values.astype(np.float32).astype(np.float64) * 255))
    assert out.max() == 255 and out.min() == 0


def test_a_float_tiff_in_another_range_is_stretched_over_it(tmp_path) -> None:
    values = np.linspace(-3.0, 5.0, 64).reshape(8, 8)
    out = decode_file(_float_tiff(tmp_path / "x.tif", values), "L", None)[0]
    np.testing.assert_array_equal(out, np.rint((values + 3.0) * 255.0 / 8.0))


def _folder_with_a_blank(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8), "L").save(root / cls / f"{i}.png")
    array = np.zeros((8, 8, 4), dtype=np.uint8)  # fully transparent: nothing to see
    Image.fromarray(array, "RGBA").save(root / "a" / "blank.png")
    _float_tiff(root / "b" / "flat.tif", np.full((8, 8), 0.25))
    return root


def test_a_dataset_with_flat_images_says_so(settings, data_root, capsys) -> None:
    root = _folder_with_a_blank(data_root / "mixed")
    spec = f"folder?root={root}&mode=L"
    ds = load_dataset(spec, settings)
    assert len(ds.labels) == 10
    (warning,) = [w for w in ds.warnings if "single flat value" in w]
    assert warning.startswith("2 of 10 images")
    assert main(["describe", spec]) == 0
    err = capsys.readouterr().err
    assert "warning: 2 of 10 images decode to a single flat value" in err
    assert not [w for w in load_dataset("digits", settings).warnings if "flat" in w]


def test_predict_says_which_share_decoded_flat(settings, tmp_path, capsys) -> None:
    folder = tmp_path / "new"
    folder.mkdir()
    _rgba(folder / "digit.png", 0)
    Image.fromarray(np.zeros((8, 8), np.uint8), "L").save(folder / "blank.png")
    assert main(["predict", "digits-classifier", str(folder), "--json"]) == 0
    out, err = capsys.readouterr()
    assert "warning: 1 of 2 images decode to a single flat value" in err
    assert json.loads(out)["warnings"] == [err.strip().removeprefix("warning: ")]
