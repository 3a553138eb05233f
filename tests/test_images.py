"""A labelled gallery as one PNG: pictures copied pixel for pixel, labels drawn, long names cut."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dashboard.images import (
    FRAME,
    GALLERY_WIDTH,
    LABEL_PAPER,
    display_width,
    framed,
    gallery_columns,
    gallery_png,
    to_display,
    triptychs,
)


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
        assert np.array_equal(out[top + 1:top + 73, left:left + 72, 0], pictures[i])  # framed
        strip = out[top + 77:top + 94, left:left + cell_w]
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
    assert (out[1:57, 57:61, 3] == 0).all() and (out[1:57, 1:57, 3] == 255).all()
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


def test_an_all_white_picture_has_a_frame_that_shows_where_it_is() -> None:
    white = to_display(np.full((2, 1, 32, 32), 255, np.uint8))  # e.g. a blanked preprocessed image
    out = _decode(gallery_png(white, ["a", "b"], max_width=400))
    h, w = white[0].shape
    left = 0  # a short label: the cell is the framed picture, w + 2 wide
    assert out.shape[1] == 2 * (w + 2) + 10
    frame = out[0, left:left + w + 2]
    assert (frame == FRAME).all() and (out[1:h + 1, left] == FRAME).all()
    assert (out[1:h + 1, left + 1:left + 1 + w, :3] == 255).all()  # the picture itself, untouched
    assert (out[1:h + 1, left + w + 1] == FRAME).all()


def _frame_lines(out: np.ndarray, length: int) -> int:
    """Unbroken runs of exactly `length` FRAME pixels along rows: two per framed tile."""
    is_frame = (out == FRAME).all(axis=2)
    lines = 0
    for row in is_frame:
        edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(np.int8), [0]])))
        lines += sum(1 for start, end in zip(edges[::2], edges[1::2]) if end - start == length)
    return lines


@pytest.mark.parametrize("side", [8, 28, 32, 64, 227, 400])
def test_predict_tiles_fit_their_columns_at_1280_px(side: int) -> None:
    """Predict's original | reconstruction | error strips: as many per row as fit the main
    column at 1280 px (GALLERY_WIDTH), each shown no wider than its share, so none covers the
    next and the last does not run off-screen (it drew 296 px strips four to a row, ~200 px
    each, for 32x32 crack images)."""
    images = np.full((2, 1, side, side), 255, np.uint8)  # all white: only the frame shows them
    pictures = framed(triptychs(images, images, images))
    h, w = side, side
    drawn = 3 * display_width(h, w) + 8 + 2  # what the page asks for
    columns, shown = gallery_columns(drawn)
    assert columns * (shown + 24) <= GALLERY_WIDTH and shown <= GALLERY_WIDTH
    main, gap = 864, 16  # Streamlit's main column at 1280 px with the sidebar; its column gap
    assert shown <= (main - gap * (columns - 1)) / columns
    assert _frame_lines(pictures[0], pictures[0].shape[1]) == 2
    if side == 32:
        assert columns == 2  # 296 + 2 px strips: two to a row, not four


def test_class_centre_thumbnails_stand_apart_in_one_framed_picture() -> None:
    from dashboard.images import centres_png

    pictures = to_display(np.full((10, 1, 28, 28), 255, np.uint8), 40)
    out = _decode(centres_png(pictures, [str(i) for i in range(10)]))
    assert out.shape[1] <= 160
    tile = min(pictures[0].shape[1], 64) + 2
    assert _frame_lines(out, tile) == 20  # ten framed thumbnails, each whole
    columns = (out.shape[1] + 8) // (tile + 8)
    for c in range(1, columns):  # a transparent gap between neighbours: they never touch
        assert (out[: tile, c * (tile + 8) - 8:c * (tile + 8), 3] == 0).all()
