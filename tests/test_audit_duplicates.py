"""The duplicate search on its own, on a folder of PNGs the test writes (digits with 20 test
images copied into train: exact, with noise, shifted by one pixel): every copy is a leak, every
pair reported is a duplicate by its pixels, and the integer pixel difference is the float one."""
from __future__ import annotations

import numpy as np
import pytest

from core.audit.duplicates import MAX_DIFF, SHIFTS, _may_agree, find_duplicates, pixel_diff
from core.data.dataset import load_dataset
from core.data.splits import TEST
from tests.audit_data import N_LEAKS, write_leaky_digits


def _reference_diff(images: np.ndarray, a: int, b: int) -> float:
    """The definition, in float64: mean absolute difference over the overlap at the best shift,
    over the brighter image's mean intensity."""
    x, y = images[a, 0].astype(np.float64), images[b, 0].astype(np.float64)
    h, w = x.shape
    best = min(np.abs(x[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)]
                      - y[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]).mean()
               for dy, dx in SHIFTS)
    return 0.0 if best == 0 else best / max(x.mean(), y.mean())


def test_copies_of_test_images_are_found_and_every_pair_is_a_duplicate(settings, data_root) -> None:
    folder = write_leaky_digits(data_root / "leaky")
    ds = load_dataset(f"folder?root={folder.root}", settings)
    features = ds.images.reshape(len(ds.images), -1).astype(np.float32)  # pixels as the embedding
    dup = find_duplicates(ds.images, ds.split, features, n_jobs=2)
    leaked = {i for i, f in enumerate(ds.files) if ds.split[i] == TEST and f.rsplit("/", 1)[-1] in folder.leaked}
    assert len(leaked) == N_LEAKS
    found = {int(a if ds.split[a] == TEST else b) for a, b in dup.pairs
             if (ds.split[a] == TEST) != (ds.split[b] == TEST)}
    assert found == leaked and dup.leaks == N_LEAKS
    assert (dup.pairs[:, 0] < dup.pairs[:, 1]).all() and len({tuple(p) for p in dup.pairs.tolist()}) == len(dup.pairs)
    reference = [_reference_diff(ds.images, a, b) for a, b in dup.pairs]
    assert dup.pixel_diff == pytest.approx(reference, rel=1e-6, abs=1e-7)
    assert (dup.pixel_diff <= MAX_DIFF).all()
    assert dup.exact.sum() == sum(np.array_equal(ds.images[a], ds.images[b]) for a, b in dup.pairs)


def test_pixel_diff_matches_the_float_definition_on_random_pairs() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 1, 9, 7), dtype=np.uint8)
    images[3] = 0  # a black image against a black image: no difference, no division by zero
    images[4] = 0
    a, b = rng.integers(0, 50, 200), rng.integers(0, 50, 200)
    a[:1], b[:1] = 3, 4
    got = pixel_diff(images, a, b, chunk=16)
    assert got == pytest.approx([_reference_diff(images, i, j) for i, j in zip(a, b)], rel=1e-6, abs=1e-7)
    assert got[0] == 0.0


def test_the_tile_bound_never_drops_a_duplicate() -> None:
    """_may_agree spares pairs the pixel comparison only where it surely fails: on pairs at every
    distance from identical (noise of growing size on copies, odd image sizes), it keeps every
    pair that pixel_diff accepts, and drops most of the others."""
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, (400, 1, 10, 13), dtype=np.uint8)
    noise = rng.normal(0, 1, base.shape) * np.linspace(0, 40, len(base))[:, None, None, None]
    copies = np.clip(base + noise, 0, 255).astype(np.uint8)
    images = np.concatenate([base, copies, rng.integers(0, 256, (400, 1, 10, 13), dtype=np.uint8)])
    a = np.concatenate([np.arange(400), np.arange(400)])
    b = np.concatenate([np.arange(400, 800), np.arange(800, 1200)])
    accepted = pixel_diff(images, a, b, shifts=((0, 0),)) <= 0.06
    kept = _may_agree(images, a, b, 0.06, chunk=64)
    assert 20 < accepted.sum() < 400  # the noise crosses the threshold part way
    assert kept[accepted].all() and kept.sum() < 0.5 * len(a)
