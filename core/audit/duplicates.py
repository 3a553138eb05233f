"""Duplicates within and across splits, and outliers, from pixels and embeddings.

Exact duplicates share a hash of their pixels. Near duplicates are found in two steps: each
image's nearest neighbours by cosine distance of its embedding (scikit-learn's NearestNeighbors)
are kept when their pixels agree: the mean absolute difference is at most `max_diff` of the
brighter image's mean intensity. Copies of test images may also be moved: each test image, at
each of the nine shifts of up to one pixel (an embedding need not be shift-invariant), is
compared with its nearest training and validation images in a PCA of the pixels, at that shift.
The leak count is the number of test images with a duplicate among the training or validation
images.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from core.data.splits import SPLITS, TEST

NEIGHBOURS = 5
MAX_DIFF = 0.06  # of the mean intensity: noise and re-encoding, not another image of the class
SEARCH_DIMS = 8  # PCA components searched: a k-d tree stays quick in a few dimensions (60,000
# images: ~4 s in 8, ~30 s in 16), and copies are close in any projection; the pixels decide
PCA_FIT_ROWS = 5000  # the PCA is fitted on a seeded sample of this many rows
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


def _pca(x: np.ndarray, fit_rows: np.ndarray | None = None):
    """A PCA to SEARCH_DIMS fitted on (a seeded sample of) x[fit_rows]."""
    from sklearn.decomposition import PCA

    rows = np.arange(len(x)) if fit_rows is None else fit_rows
    if len(rows) > PCA_FIT_ROWS:
        rows = np.random.default_rng(0).choice(rows, PCA_FIT_ROWS, replace=False)
    return PCA(min(SEARCH_DIMS, x.shape[1], len(rows)), random_state=0,
               svd_solver="covariance_eigh").fit(x[rows])


def _normalised(features: np.ndarray) -> np.ndarray:
    f = np.asarray(features, dtype=np.float32)
    f = f - f.mean(axis=0)
    if f.shape[1] > SEARCH_DIMS:
        f = _pca(f).transform(f)
    norms = np.linalg.norm(f, axis=1, keepdims=True)
    return f / np.maximum(norms, 1e-12)


def neighbours(features: np.ndarray, k: int, n_jobs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(cosine distances, indices) of each row's k nearest other rows."""
    return _search(_normalised(features), k, n_jobs)


def _search(f: np.ndarray, k: int, n_jobs: int = 1) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(f) - 1)
    # On unit vectors the Euclidean order is the cosine order (d^2 = 2 - 2 cos); a tree search in
    # a few dimensions is far quicker than brute force at 60,000 images.
    nn = NearestNeighbors(n_neighbors=k + 1, algorithm="kd_tree", n_jobs=n_jobs).fit(f)
    dist, idx = nn.kneighbors(f)
    return dist[:, 1:] ** 2 / 2, idx[:, 1:]


def pixel_diff(images: np.ndarray, a: np.ndarray, b: np.ndarray, shifts=SHIFTS,
               chunk: int = 4096) -> np.ndarray:
    """Mean absolute difference of images a[i] and b[i] at the best of shifts (default: every
    shift of <= 1 pixel; over the overlapping part), as a share of the brighter image's mean
    intensity."""
    out = np.empty(len(a), dtype=np.float32)
    h, w = images.shape[2:]
    for first in range(0, len(a), chunk):
        x = images[a[first:first + chunk]].astype(np.float32) / 255.0
        y = images[b[first:first + chunk]].astype(np.float32) / 255.0
        best = None
        for dy, dx in shifts:
            xs = x[:, :, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)]
            ys = y[:, :, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
            d = np.abs(xs - ys).mean(axis=(1, 2, 3))
            best = d if best is None else np.minimum(best, d)
        bright = np.maximum(x.mean(axis=(1, 2, 3)), y.mean(axis=(1, 2, 3)))
        out[first:first + chunk] = np.where(best == 0, 0.0, best / np.maximum(bright, 1e-6))
    return out


def _shifted(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The images moved by (dy, dx) pixels, zeros shifted in: moved[y, x] = image[y - dy, x - dx]."""
    h, w = images.shape[2:]
    s = np.zeros_like(images)
    s[:, :, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[:, :, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return s


def _leak_candidates(images: np.ndarray, split: np.ndarray, max_diff: float,
                     k: int = 4, n_jobs: int = 1) -> set[tuple[int, int]]:
    """Pairs (a < b) of a test image and a non-test image: each test image moved by each shift
    of <= 1 pixel, with its k nearest non-test images in a PCA of the pixels, kept when the
    pixels agree at that shift."""
    from sklearn.neighbors import NearestNeighbors

    test, rest = np.flatnonzero(split == TEST), np.flatnonzero(split != TEST)
    if not len(test) or not len(rest):
        return set()
    flat = images.reshape(len(images), -1)
    pca = _pca(flat.astype(np.float32), rest)
    nn = NearestNeighbors(n_neighbors=min(k, len(rest)), algorithm="kd_tree", n_jobs=n_jobs)
    nn.fit(pca.transform(flat[rest].astype(np.float32)))
    out = set()
    for dy, dx in SHIFTS:
        moved = _shifted(images[test], dy, dx).reshape(len(test), -1).astype(np.float32)
        _, idx = nn.kneighbors(pca.transform(moved))
        t, other = np.repeat(test, idx.shape[1]), rest[idx.ravel()]
        # moved[y] = test[y - dy]: pixel_diff compares test at shift (-dy, -dx) with other
        keep = pixel_diff(images, t, other, shifts=((-dy, -dx),)) <= max_diff
        out.update((min(i, j), max(i, j)) for i, j in zip(t[keep].tolist(), other[keep].tolist()))
    return out


def find_duplicates(images: np.ndarray, split: np.ndarray, features: np.ndarray,
                    k: int = NEIGHBOURS, max_diff: float = MAX_DIFF, n_jobs: int = 1) -> Duplicates:
    """Exact and near duplicates among all images of a dataset (every split); the neighbour
    searches use n_jobs threads (the caller's share of the cores)."""
    n = len(images)
    flat = images.reshape(n, -1)
    digests = np.array([hashlib.blake2b(r.tobytes(), digest_size=16).digest() for r in flat])
    _, first_of, group = np.unique(digests, return_index=True, return_inverse=True)
    exact_b = np.flatnonzero(first_of[group] != np.arange(n))
    pairs = {(int(first_of[group[i]]), int(i)) for i in exact_b}
    exact = set(pairs)
    f = _normalised(features)
    _, idx = _search(f, k, n_jobs)
    a = np.repeat(np.arange(n), idx.shape[1])
    b = idx.ravel()
    candidates = {(min(i, j), max(i, j)) for i, j in zip(a.tolist(), b.tolist()) if i != j} - exact
    cand = np.array(sorted(candidates), dtype=np.int64).reshape(-1, 2)
    # neighbours in the embedding are compared as they are; shifted copies of test images are
    # what _leak_candidates looks for
    diffs = pixel_diff(images, cand[:, 0], cand[:, 1], shifts=((0, 0),)) if len(cand) \
        else np.empty(0, np.float32)
    near = {tuple(p) for p in cand[diffs <= max_diff].tolist()}
    near = np.array(sorted((near | _leak_candidates(images, split, max_diff, n_jobs=n_jobs)) - exact),
                    dtype=np.int64).reshape(-1, 2)
    all_pairs = np.array(sorted(exact) + [tuple(p) for p in near.tolist()], dtype=np.int64).reshape(-1, 2)
    is_exact = np.array([tuple(p) in exact for p in all_pairs.tolist()], dtype=bool)
    cosine = 1.0 - (f[all_pairs[:, 0]] * f[all_pairs[:, 1]]).sum(axis=1) if len(all_pairs) else np.empty(0)
    pix = pixel_diff(images, all_pairs[:, 0], all_pairs[:, 1]) if len(all_pairs) else np.empty(0)
    leak_rows = {int(p[0] if split[p[0]] == TEST else p[1]) for p in all_pairs if _is_leak(split, p)}
    return Duplicates(all_pairs, is_exact, np.asarray(cosine, dtype=np.float32), pix, len(leak_rows))


def outliers(features: np.ndarray, rows: np.ndarray, k: int = NEIGHBOURS, n_jobs: int = 1) -> np.ndarray:
    """Mean cosine distance of each of rows to its k nearest neighbours among rows (larger =
    more unusual): the kNN distance on the model's codes."""
    dist, _ = neighbours(features[rows], k, n_jobs)
    return dist.mean(axis=1)
