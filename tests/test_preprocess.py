"""Preprocessing steps against straightforward reference implementations."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.data.preprocess import CRACKS_RECIPE, apply_steps, parse_step, stages
from core.errors import DatasetError


@pytest.fixture
def rgb() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (5, 3, 12, 12), dtype=np.uint8)


def test_grayscale_matches_pil(rgb: np.ndarray) -> None:
    ours = apply_steps(rgb, ["grayscale"])
    pil = np.stack([np.asarray(Image.fromarray(x.transpose(1, 2, 0)).convert("L")) for x in rgb])
    assert ours.shape == (5, 1, 12, 12)
    assert np.abs(ours[:, 0].astype(int) - pil.astype(int)).max() <= 1  # PIL rounds in fixed point


def test_invert_normalize_rgb_resize(rgb: np.ndarray) -> None:
    np.testing.assert_array_equal(apply_steps(rgb, ["invert"]), 255 - rgb)
    dim = (rgb // 4 + 100).astype(np.uint8)
    stretched = apply_steps(dim, ["normalize"])
    assert stretched.reshape(5, -1).min(1).tolist() == [0] * 5
    assert stretched.reshape(5, -1).max(1).tolist() == [255] * 5
    assert apply_steps(rgb[:, :1], ["rgb"]).shape == (5, 3, 12, 12)
    assert apply_steps(rgb, ["resize:32"]).shape == (5, 3, 32, 32)


def test_blur_keeps_flat_images_flat_and_smooths_noise(rgb: np.ndarray) -> None:
    flat = np.full((2, 1, 16, 16), 77, np.uint8)
    np.testing.assert_array_equal(apply_steps(flat, ["blur:1.5"]), flat)
    assert apply_steps(rgb, ["blur:1.0"]).astype(float).std() < rgb.astype(float).std() * 0.7


def test_adaptive_threshold_matches_a_naive_local_mean() -> None:
    x = np.random.default_rng(1).integers(0, 256, (2, 1, 9, 9), dtype=np.uint8)
    block, c = 5, 2
    padded = np.pad(x.astype(float), ((0, 0), (0, 0), (2, 2), (2, 2)), mode="edge")
    expected = np.zeros_like(x)
    for i in range(9):
        for j in range(9):
            mean = padded[:, :, i:i + block, j:j + block].mean(axis=(2, 3))
            expected[:, :, i, j] = np.where(x[:, :, i, j] > mean - c, 255, 0)
    np.testing.assert_array_equal(apply_steps(x, [f"adaptive_threshold:{block}:{c}"]), expected)


def test_cracks_recipe_gives_binary_32x32_grayscale(rgb: np.ndarray) -> None:
    out = apply_steps(rgb, CRACKS_RECIPE)
    assert out.shape == (5, 1, 32, 32) and set(np.unique(out)) <= {0, 255}
    names = [name for name, _ in stages(rgb[:2], CRACKS_RECIPE)]
    assert names == ["original", *CRACKS_RECIPE]


@pytest.mark.parametrize("text, message", [("sharpen", "unknown preprocessing step"),
                                           ("resize:2", "between 4 and 512"),
                                           ("adaptive_threshold:4", "odd block size"),
                                           ("blur:x", "must be numbers"),
                                           ("invert:1", "at most 0")])
def test_bad_steps_are_refused(text: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        parse_step(text)
