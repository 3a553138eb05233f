"""A labelled gallery as one PNG: pictures copied pixel for pixel, labels drawn, long names cut."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dashboard.images import LABEL_PAPER, gallery_png, to_display, triptychs


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_gallery_is_one_png_with_every_picture_and_label() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 1, 8, 8), dtype=np.uint8)
    pictures = to_display(images)  # 72x72 gray
    png = gallery_png(pictures, [f"#{i} · 0.9{i}" for i in range(10)], max_width=400)
    out = _decode(png)
    columns = out.shape[1] // 72
    assert out.shape[1] <= 400 and columns >= 3
    assert out.shape[0] > 72 * -(-10 // columns)  # a label strip under every row
    cell_w = (out.shape[1] + 10) // columns - 10
    for i in (0, 4, 9):
        top = (i // columns) * (out.shape[0] + 10) // -(-10 // columns)
        left = (i % columns) * (cell_w + 10) + (cell_w - 72) // 2
        assert np.array_equal(out[top:top + 72, left:left + 72, 0], pictures[i])
        strip = out[top + 75:top + 92, left:left + cell_w]
        assert (strip[..., :3] < 128).any()  # dark label ink on the light strip


def test_long_labels_are_cut_inside_their_cell() -> None:
    picture = np.zeros((40, 40), np.uint8)
    out = _decode(gallery_png([picture, picture], ["x" * 200, "y"], max_width=1000))
    cell_w = (out.shape[1] - 10) // 2
    assert cell_w <= 150
    gap = out[:, cell_w:cell_w + 10]
    assert (gap[..., 3] == 0).all()  # nothing drawn between the cells
    assert (out[42:60, :cell_w][..., :3] != LABEL_PAPER[:3]).any()


def test_triptychs_in_a_gallery_keep_their_transparent_gaps() -> None:
    images = np.full((2, 1, 8, 8), 200, np.uint8)
    pictures = triptychs(images, images, np.zeros_like(images), min_side=56)
    assert pictures[0].shape == (56, 3 * 56 + 8, 4)
    out = _decode(gallery_png(pictures, ["a", "b"], max_width=800))
    assert (out[:56, 56:60, 3] == 0).all() and (out[:56, :56, 3] == 255).all()
    with pytest.raises(ValueError):
        gallery_png([], [])


def _label_pixels(label: str) -> np.ndarray:
    png = gallery_png([np.zeros((72, 72), np.uint8)], [label])
    return np.asarray(Image.open(io.BytesIO(png)))[74:]  # the label strip under the picture


def test_labels_draw_accents_and_arrows_and_mark_what_the_font_lacks() -> None:
    """Class names are drawn with the shipped DejaVu Sans: "é" and "→" are themselves (Pillow's
    own font drew both as the same empty box), and a character it has no glyph for (Japanese)
    is drawn as "?" rather than a box that looks like a rendering bug."""
    from dashboard.images import LABEL_SIZE, MISSING, drawable

    assert drawable("3→8 · café · あ", LABEL_SIZE) == f"3→8 · café · {MISSING}"
    assert not np.array_equal(_label_pixels("é"), _label_pixels("e"))
    assert not np.array_equal(_label_pixels("é"), _label_pixels("ü"))
    assert np.array_equal(_label_pixels("あ"), _label_pixels(MISSING))
