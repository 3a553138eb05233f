"""Duplicates within and across splits, and outliers, from pixels and embeddings.

Exact duplicates share a hash of their pixels. Near duplicates are found in two steps: each
image's nearest neighbours by cosine distance of its embedding (scikit-learn's NearestNeighbors),
and each test image's nearest training images in pixel space at each of the nine shifts of up to
one pixel (an embedding need not be shift-invariant), propose pairs; a pair is kept when the
pixels agree: the mean absolute difference at the best shift is at most `max_diff` of the
brighter image's mean intensity. The leak count is the number of test images with a duplicate
among the training or validation images.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from core.data.splits import SPLITS, TEST

NEIGHBOURS = 5
MAX_DIFF = 0.06  # of the mean intensity: noise and re-encoding, not another image of the class
SEARCH_DIMS = 32  # embeddings are reduced to this many PCA components before the search


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


def _normalised(features: np.ndarray) -> np.ndarray:
    f = np.asarray(features, dtype=np.float32)
    f = f - f.mean(axis=0)
    if f.shape[1] > SEARCH_DIMS:
        from sklearn.decomposition import PCA

        f = PCA(SEARCH_DIMS, random_state=0, svd_solver="covariance_eigh").fit_transform(f)
    norms = np.linalg.norm(f, axis=1, keepdims=True)
    return f / np.maximum(norms, 1e-12)


def neighbours(features: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(cosine distances, indices) of each row's k nearest other rows."""
    return _search(_normalised(features), k)


def _search(f: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(f) - 1)
    # On unit vectors the Euclidean order is the cosine order (d^2 = 2 - 2 cos); a tree search in
    # a few dimensions is far quicker than brute force at 60,000 images.
    nn = NearestNeighbors(n_neighbors=k + 1, algorithm="kd_tree").fit(f)
    dist, idx = nn.kneighbors(f)
    return dist[:, 1:] ** 2 / 2, idx[:, 1:]


def pixel_diff(images: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Mean absolute difference of images a[i] and b[i] at the best shift of <= 1 pixel (over
    the overlapping part), as a share of the brighter image's mean intensity."""
    out = np.empty(len(a), dtype=np.float32)
    h, w = images.shape[2:]
    for first in range(0, len(a), chunk):
        x = images[a[first:first + chunk]].astype(np.float32) / 255.0
        y = images[b[first:first + chunk]].astype(np.float32) / 255.0
        best = None
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                xs = x[:, :, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)]
                ys = y[:, :, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
                d = np.abs(xs - ys).mean(axis=(1, 2, 3))
                best = d if best is None else np.minimum(best, d)
        bright = np.maximum(x.mean(axis=(1, 2, 3)), y.mean(axis=(1, 2, 3)))
        out[first:first + chunk] = np.where(best == 0, 0.0, best / np.maximum(bright, 1e-6))
    return out


def _shifted(images: np.ndarray) -> list[np.ndarray]:
    """The images moved by each of the nine shifts of up to one pixel (zeros shifted in)."""
    out = []
    h, w = images.shape[2:]
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            s = np.zeros_like(images)
            s[:, :, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
                images[:, :, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
            out.append(s)
    return out


def _leak_candidates(images: np.ndarray, split: np.ndarray, k: int = 2) -> set[tuple[int, int]]:
    """(a, b) pairs: each test image, at each shift, with its nearest non-test images in a PCA
    of the pixels."""
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    test, rest = np.flatnonzero(split == TEST), np.flatnonzero(split != TEST)
    if not len(test) or not len(rest):
        return set()
    flat = images.reshape(len(images), -1).astype(np.float32) / 255.0
    pca = PCA(min(SEARCH_DIMS, flat.shape[1], len(rest)), random_state=0,
              svd_solver="covariance_eigh").fit(flat[rest])
    nn = NearestNeighbors(n_neighbors=min(k, len(rest)), algorithm="kd_tree").fit(pca.transform(flat[rest]))
    out = set()
    for moved in _shifted(images[test]):
        _, idx = nn.kneighbors(pca.transform(moved.reshape(len(test), -1).astype(np.float32) / 255.0))
        for t, row in zip(test.tolist(), rest[idx].tolist()):
            out.update((min(t, j), max(t, j)) for j in row)
    return out


def find_duplicates(images: np.ndarray, split: np.ndarray, features: np.ndarray,
                    k: int = NEIGHBOURS, max_diff: float = MAX_DIFF) -> Duplicates:
    """Exact and near duplicates among all images of a dataset (every split)."""
    n = len(images)
    flat = images.reshape(n, -1)
    digests = np.array([hashlib.blake2b(r.tobytes(), digest_size=16).digest() for r in flat])
    _, first_of, group = np.unique(digests, return_index=True, return_inverse=True)
    exact_b = np.flatnonzero(first_of[group] != np.arange(n))
    pairs = {(int(first_of[group[i]]), int(i)) for i in exact_b}
    exact = set(pairs)
    f = _normalised(features)
    _, idx = _search(f, k)
    a = np.repeat(np.arange(n), idx.shape[1])
    b = idx.ravel()
    candidates = {(min(i, j), max(i, j)) for i, j in zip(a.tolist(), b.tolist()) if i != j}
    candidates = (candidates | _leak_candidates(images, split)) - exact
    cand = np.array(sorted(candidates), dtype=np.int64).reshape(-1, 2)
    diffs = pixel_diff(images, cand[:, 0], cand[:, 1]) if len(cand) else np.empty(0, np.float32)
    near = cand[diffs <= max_diff]
    all_pairs = np.array(sorted(exact) + [tuple(p) for p in near.tolist()], dtype=np.int64).reshape(-1, 2)
    is_exact = np.array([tuple(p) in exact for p in all_pairs.tolist()], dtype=bool)
    cosine = 1.0 - (f[all_pairs[:, 0]] * f[all_pairs[:, 1]]).sum(axis=1) if len(all_pairs) else np.empty(0)
    pix = pixel_diff(images, all_pairs[:, 0], all_pairs[:, 1]) if len(all_pairs) else np.empty(0)
    leak_rows = {int(p[0] if split[p[0]] == TEST else p[1]) for p in all_pairs if _is_leak(split, p)}
    return Duplicates(all_pairs, is_exact, np.asarray(cosine, dtype=np.float32), pix, len(leak_rows))


def outliers(features: np.ndarray, rows: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """Mean cosine distance of each of rows to its k nearest neighbours among rows (larger =
    more unusual): the kNN distance on the model's codes."""
    dist, _ = neighbours(features[rows], k)
    return dist.mean(axis=1)
