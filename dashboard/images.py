"""Turn uint8 (N, C, H, W) arrays into images a browser shows crisply at any size from 8x8 up."""
from __future__ import annotations

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
