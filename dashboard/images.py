"""Turn uint8 (N, C, H, W) arrays into images a browser shows crisply at any size from 8x8 up,
and compose them: reconstruction triptychs with an error heat map, a strip as one PNG."""
from __future__ import annotations

import io

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


def _as_rgb(img: np.ndarray) -> np.ndarray:
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img


def _heat(err: np.ndarray) -> np.ndarray:
    """A grayscale error map (0..255) as black -> red -> yellow -> white."""
    e = err.astype(np.float32) / 255.0
    rgb = np.stack([np.clip(3 * e, 0, 1), np.clip(3 * e - 1, 0, 1), np.clip(3 * e - 2, 0, 1)], -1)
    return (rgb * 255).round().astype(np.uint8)


def _opaque(img: np.ndarray) -> np.ndarray:
    return np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], axis=2)


def triptychs(images: np.ndarray, recon: np.ndarray, err: np.ndarray,
              gap: int = 4) -> list[np.ndarray]:
    """original | reconstruction | error map, side by side, one RGBA picture per image, with
    transparent gaps (so they read as three pictures on any theme)."""
    out = []
    for o, r, e in zip(to_display(images), to_display(recon), to_display(err)):
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
