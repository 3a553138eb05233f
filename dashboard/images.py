"""Turn uint8 (N, C, H, W) arrays into images a browser shows crisply at any size from 8x8 up,
and compose them: reconstruction triptychs with an error heat map, a strip as one PNG, and a
labelled gallery as one PNG (one encode and one HTTP request instead of one per picture)."""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import numpy as np

MIN_SIDE = 72  # pixels on screen for the smallest images; 8x8 digits become 72x72


def display_scale(height: int, min_side: int = MIN_SIDE) -> int:
    """Integer nearest-neighbour factor: keeps each source pixel a sharp square."""
    return max(1, -(-min_side // height))


def to_display(images: np.ndarray, min_side: int = MIN_SIDE) -> list[np.ndarray]:
    """(N, C, H, W) uint8 -> list of (H*k, W*k) or (H*k, W*k, 3) arrays, upscaled by repetition."""
    k = display_scale(images.shape[2], min_side)
    out = []
    for img in images:
        img = img.repeat(k, axis=1).repeat(k, axis=2) if k > 1 else img
        out.append(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0))
    return out


def display_width(height: int, width: int, min_side: int = MIN_SIDE, max_side: int = 160) -> int:
    """On-screen width: small images scaled up, large ones (227x227) shown at a readable size."""
    k = display_scale(height, min_side)
    return min(width * k, max_side) if height * k > max_side else width * k


def framed(pictures: list[np.ndarray], line: int = 1) -> list[np.ndarray]:
    """Display pictures with a thin FRAME round each (RGBA; a transparent gap stays one), so an
    all-white or all-black image still shows where it is on either theme."""
    out = []
    for picture in pictures:
        rgba = _rgba(picture)
        h, w = rgba.shape[:2]
        canvas = np.empty((h + 2 * line, w + 2 * line, 4), np.uint8)
        canvas[:] = FRAME
        canvas[line:line + h, line:line + w] = rgba
        out.append(canvas)
    return out


def gallery_columns(width: int, available: int | None = None, gap: int = 24,
                    most: int = 4) -> tuple[int, int]:
    """(columns, on-screen width) for pictures `width` px wide laid out in Streamlit columns of a
    main column `available` px wide (GALLERY_WIDTH at 1280 px): as many as fit with a gap each,
    at most `most`; a picture wider than the column is shown at the column's width. So tiles
    never overlap and nothing runs past the column."""
    available = GALLERY_WIDTH if available is None else available
    shown = max(1, min(int(width), available))
    return max(1, min(most, available // (shown + gap))), shown


def _as_rgb(img: np.ndarray) -> np.ndarray:
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img


def _heat(err: np.ndarray) -> np.ndarray:
    """A grayscale error map (0..255) as black -> red -> yellow -> white."""
    e = err.astype(np.float32) / 255.0
    rgb = np.stack([np.clip(3 * e, 0, 1), np.clip(3 * e - 1, 0, 1), np.clip(3 * e - 2, 0, 1)], -1)
    return (rgb * 255).round().astype(np.uint8)


def _opaque(img: np.ndarray) -> np.ndarray:
    return np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], axis=2)


def triptychs(images: np.ndarray, recon: np.ndarray, err: np.ndarray, gap: int = 4,
              min_side: int = MIN_SIDE) -> list[np.ndarray]:
    """original | reconstruction | error map, side by side, one RGBA picture per image, with
    transparent gaps (so they read as three pictures on any theme)."""
    out = []
    for o, r, e in zip(to_display(images, min_side), to_display(recon, min_side),
                       to_display(err, min_side)):
        parts = [_opaque(_as_rgb(o)), _opaque(_as_rgb(r)), _opaque(_heat(e if e.ndim == 2
                                                                         else e[..., 0]))]
        space = np.zeros((o.shape[0], gap, 4), np.uint8)
        out.append(np.concatenate([parts[0], space, parts[1], space, parts[2]], axis=1))
    return out


def strip_png(images: np.ndarray, gap: int = 4) -> bytes:
    """A row of images (N, C, H, W) uint8, upscaled for viewing, as one PNG."""
    from PIL import Image

    tiles = to_display(images)
    h, w = tiles[0].shape[:2]
    rgb = tiles[0].ndim == 3
    canvas = np.full((h, len(tiles) * (w + gap) - gap) + ((3,) if rgb else ()), 255, np.uint8)
    for i, tile in enumerate(tiles):
        canvas[:, i * (w + gap): i * (w + gap) + w] = tile
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, format="PNG")
    return buf.getvalue()


LABEL_SIZE = 14  # px: label text in a gallery
LABEL_INK = (38, 39, 48, 255)  # dark text on a light strip, readable on either theme
LABEL_PAPER = (246, 247, 249, 255)
FRAME = (150, 150, 150, 255)  # a 1 px line round each gallery picture, visible on either theme
GALLERY_WIDTH = 800  # px: a gallery's rows fit the main column at 1280x720 with the sidebar open


FONT = Path(__file__).resolve().parent / "fonts" / "DejaVuSans.ttf"  # shipped: nothing is fetched
MISSING = "?"  # drawn for a character the font has no glyph for (CJK, say), instead of a box


@lru_cache(maxsize=4)
def _font(size: int):
    """DejaVu Sans: Latin with accents, Greek, Cyrillic, arrows (Pillow's own font has no "é")."""
    from PIL import ImageFont

    return ImageFont.truetype(str(FONT), size)


@lru_cache(maxsize=4096)
def _has_glyph(char: str, size: int) -> bool:
    """Whether the font draws char as itself, not as its "missing glyph" box."""
    font = _font(size)
    return char.isspace() or bytes(font.getmask(char)) != bytes(font.getmask("\uffff"))


def drawable(text: str, size: int) -> str:
    """text with every character the label font cannot draw replaced by MISSING."""
    return "".join(c if _has_glyph(c, size) else MISSING for c in text)


def _fit(text: str, font, width: int) -> str:
    """text, cut with an ellipsis to fit width pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _rgba(picture: np.ndarray) -> np.ndarray:
    if picture.ndim == 2:
        picture = np.repeat(picture[..., None], 3, axis=2)
    return picture if picture.shape[2] == 4 else _opaque(picture)


def _fit_width(pictures: list[np.ndarray], width: int) -> list[np.ndarray]:
    """Pictures wider than width shrunk (area-averaged) to fit it; the rest as they are."""
    from PIL import Image

    h, w = pictures[0].shape[:2]
    if w <= width:
        return pictures
    size = (width, max(1, round(h * width / w)))
    return [np.asarray(Image.fromarray(_rgba(p), "RGBA").resize(size, Image.Resampling.BOX))
            for p in pictures]


def gallery_png(pictures: list[np.ndarray], labels: list[str], max_width: int = GALLERY_WIDTH,
                label_lines: int = 1, gap: int = 10) -> bytes:
    """Pictures of one size ((H, W) gray, RGB or RGBA uint8, e.g. from to_display or triptychs)
    in rows no wider than max_width (a wider picture is shrunk to fit), each in a thin FRAME (an
    all-white or all-black image still shows where it is) with up to label_lines lines of its
    label (split on newlines) drawn under it as pixels, so a user's class name is never read as
    markup. One RGBA PNG: one encode and one HTTP request for a whole gallery."""
    from PIL import Image, ImageDraw

    if not len(pictures):
        raise ValueError("a gallery needs at least one picture")
    pictures = _fit_width(list(pictures), max_width - 2)
    h, w = pictures[0].shape[:2]
    font = _font(LABEL_SIZE)
    lines = [[drawable(part.rstrip(), LABEL_SIZE) for part in str(label).split("\n")[:label_lines]]
             for label in labels]
    longest = max((font.getlength(line) for label in lines for line in label), default=0)
    label_w = min(longest + 8, max(2 * w, 150), max_width)  # room for a short label
    cell_w = int(max(w + 2, label_w))
    line_h = LABEL_SIZE + 4
    cell_h = 1 + h + 1 + 2 + label_lines * line_h + 2
    columns = max(1, min(len(pictures), (max_width + gap) // (cell_w + gap)))
    rows = -(-len(pictures) // columns)
    canvas = np.zeros((rows * cell_h + (rows - 1) * gap, columns * cell_w + (columns - 1) * gap, 4),
                      np.uint8)
    for i, picture in enumerate(pictures):
        top, left = (i // columns) * (cell_h + gap), (i % columns) * (cell_w + gap)
        x = left + (cell_w - w) // 2
        canvas[top:top + h + 2, x - 1:x + w + 1] = FRAME
        canvas[top + 1:top + 1 + h, x:x + w] = _rgba(picture)
        canvas[top + h + 4:top + cell_h, left:left + cell_w] = LABEL_PAPER
    image = Image.fromarray(canvas, "RGBA")
    draw = ImageDraw.Draw(image)
    for i, label in enumerate(lines[:len(pictures)]):
        top, left = (i // columns) * (cell_h + gap), (i % columns) * (cell_w + gap)
        for j, line in enumerate(label):
            draw.text((left + 4, top + h + 5 + j * line_h), _fit(line, font, cell_w - 8),
                      font=font, fill=LABEL_INK)
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)  # fast: flat pixel art compresses anyway
    return buf.getvalue()


CENTRES_WIDTH = 160  # px: the class-centre column beside the latent map at 1280 px


def centres_png(pictures: list[np.ndarray], labels: list[str], max_width: int = CENTRES_WIDTH) -> bytes:
    """Class-centre thumbnails (at most 64 px a side) as one framed gallery, apart from each
    other, labelled under each (Streamlit's own image list set them edge to edge)."""
    pictures = _fit_width(list(pictures), 64)
    return gallery_png(pictures, labels, max_width=max_width, gap=8)
