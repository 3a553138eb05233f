"""Duplicates within and across splits, and outliers, from pixels and embeddings.

Exact duplicates share a hash of their pixels. Near duplicates are found in two steps: each
image's nearest neighbours by cosine distance of its embedding (a k-d tree on the embedding's
leading principal components) are kept when their pixels agree: the mean absolute difference is
at most `max_diff` of the brighter image's mean intensity. Copies of test images may also be
moved: each test image, at each of the nine shifts of up to one pixel (an embedding need not be
shift-invariant), is compared with its nearest training and validation images in a PCA of the
pixels, at that shift. The leak count is the number of test images with a duplicate among the
training or validation images.

Speed (60,000 + 10,000 28x28 images on 2 cores): approximate queries of scipy's cKDTree (see
EPS) on both cores, the pixel PCA fitted on a sample and applied in float32 chunks, pixel
differences taken in integers on the uint8 images, pairs kept as integer codes, not tuples.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from core.data.splits import SPLITS, TEST

NEIGHBOURS = 5
MAX_DIFF = 0.06  # of the mean intensity: noise and re-encoding, not another image of the class
SEARCH_DIMS = 8  # PCA components searched: a k-d tree stays quick in a few dimensions, and
# copies are close in any projection; the pixels decide
PCA_FIT_ROWS = 5000  # the PCA is fitted on a seeded sample of this many rows
EPS = 1.0  # the duplicate searches are approximate: each neighbour found is within 1 + EPS of the
# true one's distance, so an image's copy is always found when every other image is more than
# (1 + EPS) times as far; four times fewer tree nodes visited than an exact search
BLOCK = 4  # tile side of the cheap lower bound on a pixel difference (_may_agree)
CHUNK = 4096  # images per block of pixel work (bounds the float32 copies)
SHIFTS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1))


@dataclass
class Duplicates:
    pairs: np.ndarray  # (P, 2) dataset rows, a < b
    exact: np.ndarray  # bool per pair
    cosine: np.ndarray  # cosine distance of the embeddings per pair
    pixel_diff: np.ndarray  # mean absolute difference at the best shift / mean intensity
    leaks: int  # test images with a duplicate among the training or validation images

    def rows(self, split: np.ndarray) -> list[dict]:
        """One dict per pair, train/test leaks first, then the closest."""
        order = sorted(range(len(self.pairs)), key=lambda i: (
            not _is_leak(split, self.pairs[i]), not self.exact[i], self.pixel_diff[i]))
        return [{"a": int(self.pairs[i, 0]), "b": int(self.pairs[i, 1]),
                 "split_a": SPLITS[split[self.pairs[i, 0]]], "split_b": SPLITS[split[self.pairs[i, 1]]],
                 "exact": bool(self.exact[i]), "cosine_distance": float(self.cosine[i]),
                 "pixel_diff": float(self.pixel_diff[i]), "leak": bool(_is_leak(split, self.pairs[i]))}
                for i in order]


def _is_leak(split: np.ndarray, pair: np.ndarray) -> bool:
    return (split[pair[0]] == TEST) != (split[pair[1]] == TEST)


@dataclass
class _Pca:
    mean_: np.ndarray  # (D,)
    components_: np.ndarray  # (K, D), the leading principal axes


def _pca(x: np.ndarray, fit_rows: np.ndarray | None = None) -> _Pca:
    """A PCA to SEARCH_DIMS fitted on (a seeded sample of) x[fit_rows] (any dtype): the leading
    eigenvectors of the sample's covariance, only those computed (scipy's eigh with a subset:
    milliseconds, where a full eigendecomposition of a 784 x 784 covariance takes seconds)."""
    from scipy.linalg import eigh

    rows = np.arange(len(x)) if fit_rows is None else fit_rows
    if len(rows) > PCA_FIT_ROWS:
        rows = np.sort(np.random.default_rng(0).choice(rows, PCA_FIT_ROWS, replace=False))
    sample = np.asarray(x[rows], dtype=np.float32)
    mean = sample.mean(axis=0, dtype=np.float64)
    centred = sample - mean.astype(np.float32)
    cov = (centred.T @ centred).astype(np.float64) / max(len(rows) - 1, 1)
    d = cov.shape[0]
    n = min(SEARCH_DIMS, d, len(rows))
    _, vectors = eigh(cov, subset_by_index=[d - n, d - 1])
    return _Pca(mean, vectors[:, ::-1].T.copy())


def _project(pca: _Pca, x: np.ndarray, comps: np.ndarray | None = None) -> np.ndarray:
    """pca.transform(x) in float32, CHUNK rows at a time (no float copy of all of x); comps:
    other axes (D, M) to project on, centred by the PCA's own (see _shifted_axes)."""
    axes = pca.components_.astype(np.float32).T
    offset = pca.mean_.astype(np.float32) @ axes  # (x - m) @ A = x @ A - m @ A
    if comps is not None:
        axes, offset = comps, np.tile(offset, comps.shape[1] // axes.shape[1])
    out = np.empty((len(x), axes.shape[1]), dtype=np.float32)
    for first in range(0, len(x), CHUNK):
        out[first:first + CHUNK] = x[first:first + CHUNK].astype(np.float32) @ axes - offset
    return out


def _shifted_axes(pca: _Pca, shape: tuple[int, ...]) -> np.ndarray:
    """(D, 9K): the PCA's axes moved back by each of SHIFTS, so that moved(x) @ axis =
    x @ (axis moved back): one product of the unmoved images gives every shift's projection."""
    axes = pca.components_.astype(np.float32).reshape(-1, *shape)
    return np.concatenate([_shifted(axes, -dy, -dx).reshape(len(axes), -1).T for dy, dx in SHIFTS], axis=1)


def _normalised(features: np.ndarray) -> np.ndarray:
    f = np.asarray(features, dtype=np.float32)
    f = f - f.mean(axis=0)
    if f.shape[1] > SEARCH_DIMS:
        f = _project(_pca(f), f)
    norms = np.linalg.norm(f, axis=1, keepdims=True)
    return f / np.maximum(norms, 1e-12)


def neighbours(features: np.ndarray, k: int, n_jobs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(cosine distances, indices) of each row's k nearest other rows."""
    return _search(_normalised(features), k, n_jobs)


def _tree(points: np.ndarray):
    from scipy.spatial import cKDTree

    return cKDTree(np.asarray(points, dtype=np.float64))


def _search(f: np.ndarray, k: int, n_jobs: int = 1, eps: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(squared Euclidean distances / 2, indices) of each row's k nearest other rows; eps > 0:
    approximate (see EPS)."""
    k = min(k, len(f) - 1)
    # On unit vectors the Euclidean order is the cosine order (d^2 = 2 - 2 cos); a tree search in
    # a few dimensions is far quicker than brute force at 60,000 images.
    dist, idx = _tree(f).query(f, k=k + 1, eps=eps, workers=n_jobs)
    dist, idx = dist.reshape(len(f), -1), idx.reshape(len(f), -1)
    return dist[:, 1:] ** 2 / 2, idx[:, 1:]


def pixel_diff(images: np.ndarray, a: np.ndarray, b: np.ndarray, shifts=SHIFTS,
               chunk: int = CHUNK) -> np.ndarray:
    """Mean absolute difference of images a[i] and b[i] at the best of shifts (default: every
    shift of <= 1 pixel; over the overlapping part), as a share of the brighter image's mean
    intensity. Computed in integers on the uint8 pixels."""
    out = np.empty(len(a), dtype=np.float64)
    h, w = images.shape[2:]
    axes = (1, 2, 3)
    for first in range(0, len(a), chunk):
        x, y = images[a[first:first + chunk]], images[b[first:first + chunk]]
        best = None
        for dy, dx in shifts:
            xs = x[:, :, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)]
            ys = y[:, :, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
            d = (np.maximum(xs, ys) - np.minimum(xs, ys)).sum(axis=axes, dtype=np.int64) / xs[0].size
            best = d if best is None else np.minimum(best, d)
        bright = np.maximum(x.sum(axis=axes, dtype=np.int64), y.sum(axis=axes, dtype=np.int64)) / x[0].size
        out[first:first + chunk] = np.where(best == 0, 0.0, best / np.maximum(bright, 255e-6))
    return out.astype(np.float32)


def _block_sums(images: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """(N, M) int32: each image's pixel sums over block x block tiles (zero padded)."""
    n, c, h, w = images.shape
    hp, wp = -(-h // block) * block, -(-w // block) * block
    x = images if (hp, wp) == (h, w) else np.pad(images, ((0, 0), (0, 0), (0, hp - h), (0, wp - w)))
    # one axis at a time, over the last axis first: far quicker than both tile axes at once
    rows = x.reshape(n, c, hp, wp // block, block).sum(axis=-1, dtype=np.int32)
    return rows.reshape(n, c, hp // block, block, wp // block).sum(axis=3, dtype=np.int32).reshape(n, -1)


def _may_agree(images: np.ndarray, a: np.ndarray, b: np.ndarray, max_diff: float,
               chunk: int = 65536) -> np.ndarray:
    """False where pixel_diff(a, b, unshifted) surely exceeds max_diff: the summed absolute
    difference of the tile sums is at most the summed absolute difference of the pixels, so a
    pair whose tiles already differ by more than max_diff x the brighter image's sum is no
    duplicate (a cheap test that spares most pairs the full comparison; it never drops one)."""
    blocks = _block_sums(images)
    sums = blocks.sum(axis=1, dtype=np.int64)
    out = np.empty(len(a), dtype=bool)
    for first in range(0, len(a), chunk):
        i, j = a[first:first + chunk], b[first:first + chunk]
        lower = np.abs(blocks[i] - blocks[j]).sum(axis=1, dtype=np.int64)
        out[first:first + chunk] = lower <= max_diff * np.maximum(sums[i], sums[j]) * (1 + 1e-6)
    return out


def _shifted(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The images moved by (dy, dx) pixels, zeros shifted in: moved[y, x] = image[y - dy, x - dx]."""
    h, w = images.shape[2:]
    s = np.zeros_like(images)
    s[:, :, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[:, :, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return s


def _codes(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Sorted unique codes min*n + max of the pairs (a[i], b[i]) with a[i] != b[i]."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    keep = a != b
    return np.unique(np.minimum(a, b)[keep] * n + np.maximum(a, b)[keep])


def _leak_candidates(images: np.ndarray, split: np.ndarray, max_diff: float,
                     k: int = 4, n_jobs: int = 1) -> np.ndarray:
    """Codes (see _codes) of pairs of a test image and a non-test image: each test image moved
    by each shift of <= 1 pixel, with its k nearest non-test images in a PCA of the pixels, kept
    when the pixels agree at that shift."""
    n = len(images)
    test, rest = np.flatnonzero(split == TEST), np.flatnonzero(split != TEST)
    if not len(test) or not len(rest):
        return np.empty(0, np.int64)
    flat = images.reshape(n, -1)
    pca = _pca(flat, rest)
    tree = _tree(_project(pca, flat[rest]))
    k = min(k, len(rest))
    moved = _project(pca, flat[test], _shifted_axes(pca, images.shape[1:]))  # (T, 9 x dims)
    dims = pca.components_.shape[0]
    found = []
    for s, (dy, dx) in enumerate(SHIFTS):
        _, idx = tree.query(moved[:, s * dims:(s + 1) * dims], k=k, eps=EPS, workers=n_jobs)
        t, other = np.repeat(test, k), rest[idx.reshape(len(test), k).ravel()]
        # moved[y] = test[y - dy]: pixel_diff compares test at shift (-dy, -dx) with other
        keep = pixel_diff(images, t, other, shifts=((-dy, -dx),)) <= max_diff
        found.append(_codes(t[keep], other[keep], n))
    return np.unique(np.concatenate(found))


def find_duplicates(images: np.ndarray, split: np.ndarray, features: np.ndarray,
                    k: int = NEIGHBOURS, max_diff: float = MAX_DIFF, n_jobs: int = 1) -> Duplicates:
    """Exact and near duplicates among all images of a dataset (every split); the neighbour
    searches use n_jobs threads (the caller's share of the cores)."""
    n = len(images)
    flat = images.reshape(n, -1)
    digests = np.array([hashlib.blake2b(r.tobytes(), digest_size=16).digest() for r in flat])
    _, first_of, group = np.unique(digests, return_index=True, return_inverse=True)
    exact = _codes(first_of[group], np.arange(n), n)
    f = _normalised(features)
    _, idx = _search(f, k, n_jobs, eps=EPS)
    cand = np.setdiff1d(_codes(np.repeat(np.arange(n), idx.shape[1]), idx.ravel(), n), exact)
    # neighbours in the embedding are compared as they are; shifted copies of test images are
    # what _leak_candidates looks for
    cand = cand[_may_agree(images, cand // n, cand % n, max_diff)]
    diffs = pixel_diff(images, cand // n, cand % n, shifts=((0, 0),))
    near = np.union1d(cand[diffs <= max_diff], _leak_candidates(images, split, max_diff, n_jobs=n_jobs))
    codes = np.concatenate([exact, np.setdiff1d(near, exact)])
    all_pairs = np.stack([codes // n, codes % n], axis=1)
    is_exact = np.arange(len(codes)) < len(exact)
    cosine = 1.0 - (f[all_pairs[:, 0]] * f[all_pairs[:, 1]]).sum(axis=1)
    pix = pixel_diff(images, all_pairs[:, 0], all_pairs[:, 1])
    leak_rows = {int(p[0] if split[p[0]] == TEST else p[1]) for p in all_pairs if _is_leak(split, p)}
    return Duplicates(all_pairs, is_exact, np.asarray(cosine, dtype=np.float32), pix, len(leak_rows))


def outliers(features: np.ndarray, rows: np.ndarray, k: int = NEIGHBOURS, n_jobs: int = 1) -> np.ndarray:
    """Mean cosine distance of each of rows to its k nearest neighbours among rows (larger =
    more unusual): the kNN distance on the model's codes."""
    dist, _ = neighbours(features[rows], k, n_jobs)
    return dist.mean(axis=1)
