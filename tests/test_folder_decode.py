"""Image folders decoded in worker processes: same arrays as one process, real progress, and
every broken file still reported."""
from __future__ import annotations

import numpy as np

import core.data.decode as decode
from core.data.dataset import load_dataset
from tests import data_writers as dw


def test_workers_are_used_only_when_worth_it(monkeypatch) -> None:
    monkeypatch.setattr(decode, "usable_cores", lambda: 2)
    assert decode.worker_count(10) == 0
    assert decode.worker_count(2 * decode.MIN_FILES_PER_WORKER) == 2
    assert decode.worker_count(100_000) == 2  # never more than the cores


def test_worker_processes_decode_the_same_arrays_with_real_progress(monkeypatch, tmp_path):
    monkeypatch.setattr(decode, "usable_cores", lambda: 2)
    info = dw.write_image_folder(tmp_path / "cracks", n_per_class=450, size=(40, 30),
                                 fmt_cycle=("jpg", "png"), stray_text=False)
    paths = [p for cls in info["classes"] for p in info["files"]["all"][cls]] + info["corrupt"]
    assert decode.worker_count(len(paths)) == 2
    reports = []
    results = decode.decode_all(paths, "L", 16, "cracks", lambda f, text: reports.append((f, text)))
    in_process = decode.decode_chunk([str(p) for p in paths], "L", 16)
    assert len(results) == len(in_process) == 901
    for got, expected in zip(results[:-1], in_process[:-1]):
        np.testing.assert_array_equal(got, expected)
    assert results[-1].startswith("cannot decode") and in_process[-1].startswith("cannot decode")
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert len(reports) == -(-901 // decode.CHUNK) and reports[-1][1] == "reading images 901/901"


def test_a_big_folder_loads_through_workers_and_then_from_the_cache(settings, data_root,
                                                                    monkeypatch) -> None:
    monkeypatch.setattr(decode, "usable_cores", lambda: 2)
    dw.write_image_folder(data_root / "big", n_per_class=420, size=(24, 24), stray_text=False)
    seen = []
    ds = load_dataset(f"folder?root={data_root / 'big'}&size=8&mode=L", settings,
                      progress=lambda f, text: seen.append(f))
    assert not ds.from_cache and len(ds.labels) == 840 and len(ds.skipped) == 1
    assert seen[-1] == 1.0
    again = load_dataset(f"folder?root={data_root / 'big'}&size=8&mode=L", settings)
    assert again.from_cache
    np.testing.assert_array_equal(again.images, ds.images)
