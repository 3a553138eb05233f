"""Image folders decoded in worker processes: same arrays as one process, real progress, and
every broken file still reported."""
from __future__ import annotations

import os
import pty
import subprocess
import sys

import numpy as np

import core.data.decode as decode
from core.data.dataset import load_dataset
from tests import data_writers as dw
from tests.hostile import REPO


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
    decoded = decode.decode_all(paths, "L", 16, "cracks", lambda f, text: reports.append((f, text)))
    in_process = decode.decode_chunk([str(p) for p in paths], "L", 16)
    assert len(in_process) == 901 and decoded.images.shape == (900, 1, 16, 16)
    np.testing.assert_array_equal(decoded.kept, np.arange(900))
    np.testing.assert_array_equal(decoded.images, np.stack(in_process[:-1]))
    assert list(decoded.reasons) == [900] and decoded.reasons[900].startswith("cannot decode")
    assert in_process[-1] == decoded.reasons[900]
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert len(reports) == -(-901 // decode.CHUNK) and reports[-1][1] == "reading images 901/901"


def test_skipped_files_in_the_middle_leave_no_gap(tmp_path) -> None:
    info = dw.write_image_folder(tmp_path / "f", n_per_class=3, size=(12, 10), stray_text=False)
    good = info["files"]["all"]["Negative"] + info["files"]["all"]["Positive"]
    paths = [info["corrupt"][0], *good[:3], info["corrupt"][0], *good[3:]]
    decoded = decode.decode_all(paths, "RGB", None, "f")
    np.testing.assert_array_equal(decoded.kept, [1, 2, 3, 5, 6, 7])
    assert sorted(decoded.reasons) == [0, 4]
    expected = np.stack([decode.decode_file(p, "RGB", None) for p in good])
    np.testing.assert_array_equal(decoded.images, expected)


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


def test_describe_shows_images_done_on_a_terminal_only(settings, data_root) -> None:
    dw.write_image_folder(data_root / "f", n_per_class=300, size=(12, 12), stray_text=False)
    command = [sys.executable, "-m", "core", "describe", f"folder?root={data_root / 'f'}&size=8"]
    main, terminal = pty.openpty()
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    os.close(main)
    assert proc.wait(timeout=120) == 0 and b"total" in proc.stdout.read()
    assert b"reading images 256/601 (43%)" in shown and b"reading images 601/601 (100%)" in shown
    assert shown.endswith(b"\r\x1b[K")  # the line is cleared once loaded
    fresh = {**os.environ, "DASH_WORKSPACE": str(settings.workspace / "fresh")}  # no cache
    piped = subprocess.run(command, cwd=REPO, env=fresh, capture_output=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr == b""  # not a terminal: no progress noise


SCRIPT_THAT_MARKS_A_RERUN = """
import os, sys, threading
from pathlib import Path
if __name__ != "__main__":  # imported again in a worker, as multiprocessing does with __main__
    Path(os.environ["RERUN_MARK"]).write_text(__name__)
else:
    import core.data.decode as decode
    decode.MIN_FILES_PER_WORKER = 1
    decode.usable_cores = lambda: 2
    hold = threading.Event()
    threading.Thread(target=hold.wait, daemon=True).start()  # a threaded server: forkserver
    assert decode._start_method() == "forkserver"
    paths = sorted(Path(sys.argv[1]).rglob("*.png"))
    print(len(decode.decode_all(paths, "L", None, "the folder").kept))
    hold.set()
"""


def test_a_threaded_parent_never_has_its_main_script_run_again_by_decode_workers(tmp_path):
    """Under Streamlit, __main__ is the page script: a forkserver that preloads __main__ (its
    default) ran the page again, outside any session, in the server that forks the workers."""
    info = dw.write_image_folder(tmp_path / "imgs", n_per_class=4, fmt_cycle=("png",),
                                 corrupt=False, stray_text=False)
    script, mark = tmp_path / "page.py", tmp_path / "rerun.txt"
    script.write_text(SCRIPT_THAT_MARKS_A_RERUN)
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "imgs")], cwd=REPO,
                          env={**os.environ, "RERUN_MARK": str(mark), "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    n = sum(len(v) for v in info["files"]["all"].values())
    assert int(done.stdout.split()[-1]) == n
    assert not mark.exists(), f"the main script ran again as {mark.read_text()}"
