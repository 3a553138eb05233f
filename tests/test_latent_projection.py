"""UMAP and t-SNE report a real fraction done; background jobs write it to their status file and
can be cancelled; the map's selection gallery is a stratified sample; big maps are not sampled."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.manifold import trustworthiness

from core.io.atomic import read_json, write_json
from core.latent.features import MAX_POINTS, sample_rows
from core.latent.methods import PCA_DIMS, Method, project, reduced
from core.latent.selection import class_counts, stratified_sample
from core.runs import jobs
from tests.polling import wait_for


@pytest.fixture(scope="module")
def numba_cache_dir(tmp_path_factory) -> Path:
    """The session's numba cache (tests/conftest.py), so umap's JIT is paid once per session;
    a module cache of its own when the session has none."""
    given = os.environ.get("NUMBA_CACHE_DIR")
    return Path(given) if given else tmp_path_factory.mktemp("numba")


def clustered_codes(n: int = 400, dims: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    centres = rng.normal(0, 8, (4, dims))
    return (centres[labels] + rng.normal(0, 1, (n, dims))).astype(np.float32), labels


def recorder():
    log: list[tuple[float, str]] = []
    return log, lambda fraction, stage: log.append((fraction, stage))


@pytest.mark.parametrize("method", [Method.UMAP, Method.TSNE])
def test_umap_and_tsne_report_progress_from_0_to_1(method, numba_cache_dir, monkeypatch) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(numba_cache_dir))
    codes, labels = clustered_codes()
    log, report = recorder()
    xy = project(codes, method, {}, seed=0, progress=report)
    assert xy.shape == (len(codes), 2) and np.isfinite(xy).all()
    fractions = [f for f, _ in log]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(a <= b for a, b in zip(fractions, fractions[1:]))  # never goes back
    optimising = [s for f, s in log if s.startswith("optimising the layout")]
    assert len(optimising) >= 10  # each epoch (UMAP) or every 25 iterations (t-SNE)
    assert any("of 200" in s for s in optimising) if method == Method.UMAP else \
        any("750 of 750" in s for s in optimising)
    # the map keeps the neighbourhoods of the 64-d codes
    assert trustworthiness(codes, xy, n_neighbors=10) > 0.9
    # four well separated clusters stay apart: each point's nearest map neighbour is of its class
    d = ((xy[:, None] - xy[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert np.mean(labels[d.argmin(1)] == labels) > 0.95


def test_codes_are_reduced_to_50_dimensions_first() -> None:
    codes, _ = clustered_codes(200, 128)
    assert reduced(codes).shape == (200, PCA_DIMS)
    small = codes[:, :16]
    assert np.array_equal(reduced(small), small)  # already small: unchanged


def test_progress_reporter_throttles_and_never_overwrites_a_cancel(tmp_path: Path) -> None:
    status = tmp_path / "job.json"
    write_json(status, {"state": "running", "pid": 1, "started": 1.0})
    report = jobs.progress_reporter(status, every_s=60)
    report(0.0, "loading")
    assert read_json(status)["fraction"] == 0.0 and read_json(status)["pid"] == 1
    report(0.5, "half")  # within every_s of the last write: skipped
    assert read_json(status)["stage"] == "loading"
    report(1.0, "done")  # the end is always written
    assert read_json(status)["fraction"] == 1.0
    write_json(status, {"state": "cancelled"})
    report(1.0, "late")
    assert read_json(status) == {"state": "cancelled"}


def test_a_background_job_reports_progress_and_is_cancelled(tmp_path: Path, settings) -> None:
    # a real detached process that reports like `embed` does, then would run for a minute
    script = ("import sys, time\n"
              "from core.runs.jobs import progress_reporter\n"
              "report = progress_reporter(__import__('pathlib').Path(sys.argv[-1]), every_s=0)\n"
              "for i in range(600):\n"
              "    report(i / 600, f'step {i}')\n"
              "    time.sleep(0.1)\n")
    status = tmp_path / "job.json"
    jobs.start_job(status, [jobs.core_command()[0], "-c", script], settings)
    wait_for(lambda: (read_json(status) or {}).get("fraction", 0) > 0, timeout=60)
    running = jobs.job_status(status)
    assert running["state"] == "running" and 0 < running["fraction"] < 1
    assert running["stage"].startswith("step ")
    pid = running["pid"]
    assert jobs.cancel_job(status)
    assert not jobs.pid_alive(pid)  # the reporter is gone, so no report is still in flight
    assert jobs.job_status(status)["state"] == "cancelled"
    assert not jobs.cancel_job(status)  # nothing left to cancel


def test_selection_gallery_is_stratified_by_class() -> None:
    # the box: 350 nines and 277 fours, listed nines first (the map's trace order)
    labels = np.zeros(2000, dtype=int)
    nines, fours = np.arange(0, 350), np.arange(1000, 1277)
    labels[nines], labels[fours] = 9, 4
    chosen = np.r_[nines, fours]
    shown = stratified_sample(chosen, labels, 60)
    assert len(shown) == 60 and set(shown) <= set(chosen) and len(set(shown)) == 60
    counts = class_counts(shown, labels, 10)
    assert counts[9] == 33 and counts[4] == 27  # 60 * 350/627 = 33.49, 60 * 277/627 = 26.51
    assert np.array_equal(shown, stratified_sample(chosen, labels, 60))  # seeded
    # a class with a single point still shows; all classes present when k allows
    labels[1500] = 7
    shown = stratified_sample(np.r_[chosen, 1500], labels, 60)
    assert 1500 in shown and len(shown) == 60
    # fewer than k selected: all of them, as selected
    assert stratified_sample(chosen[:10], labels, 60).tolist() == chosen[:10].tolist()
    # more classes than k: one each of the biggest classes
    many = np.arange(100)
    assert len(stratified_sample(many, many % 80, 60)) == 60


def test_maps_up_to_100000_points_are_not_sampled() -> None:
    assert MAX_POINTS == 100_000
    assert np.array_equal(sample_rows(38_547), np.arange(38_547))
    sampled = sample_rows(270_912)
    assert len(sampled) == MAX_POINTS and np.all(np.diff(sampled) > 0)


def test_the_map_figure_of_38000_points_keeps_every_row(tmp_path: Path) -> None:
    from dashboard.figures import latent_scatter_figure

    rng = np.random.default_rng(0)
    n = 38_547
    xy = rng.normal(size=(n, 2)).astype(np.float32)
    rows = np.arange(n)
    classes = rng.integers(0, 49, n)
    fig = latent_scatter_figure(xy, rows, classes, "class", order=list(range(49)))
    traces = [t for t in fig.data if t.customdata is not None]
    assert {t.type for t in traces} == {"scattergl"}  # WebGL: all points drawn
    ids = np.concatenate([np.asarray(t.customdata) for t in traces])
    assert sorted(ids.tolist()) == rows.tolist()
    for t in traces:  # each point's position and class travel with its row
        r = np.asarray(t.customdata)
        np.testing.assert_array_equal(np.asarray(t.x), xy[r, 0])
        assert set(classes[r].tolist()) == {int(t.name)}
    spec = json.loads(fig.to_json())
    assert sum(1 for t in spec["data"] if "customdata" in t) == 49
