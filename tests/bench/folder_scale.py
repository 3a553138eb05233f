"""folder_scale: crack-photo folders (227x227 RGB JPEGs, written here) loaded to 32x32 gray.

Rungs of 2,000 and 15,000 images. Per repeat, in a fresh Python and an empty workspace:
load_dataset first (decoding in worker processes) and cached, against the baseline of a plain
single-process PIL loop (open, convert L, resize, stack) over the same files. Memory: the
loading process's peak RSS over its RSS just before the load (imports, PIL plugins and the
worker pool warmed by loading a small folder first), against
2 x the final array plus one worker batch; and the peak RSS of the whole process tree
(loader, forkserver, workers) sampled from /proc every 20 ms.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np

from tests.bench.common import Figure, tmp_dir

RUNGS = (2_000, 15_000)
SIDE, SIZE = 227, 32
SPEC = "folder?root={root}&size=32&mode=L"
GOALS = {15_000: (30.0, 2.0)}  # (first load s, cached s) from issue 12, on 2 cores; and
# peak memory <= 2 x the final array + one worker batch


def write_crack_folder(root: Path, n: int, seed: int = 0) -> Path:
    """root/{Negative,Positive}/*.jpg: n grey 227x227 concrete-like photos, half with a dark
    wandering crack; JPEG quality 90, about the size of the real set's files."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    textures = [np.clip(rng.normal(150, 18, (SIDE + 16, SIDE + 16, 3)), 0, 255).astype(np.uint8)
                for _ in range(8)]
    for cls in ("Negative", "Positive"):
        (root / cls).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        dy, dx = rng.integers(0, 16, 2)
        img = Image.fromarray(textures[i % 8][dy:dy + SIDE, dx:dx + SIDE])
        cls = "Positive" if i % 2 else "Negative"
        if cls == "Positive":
            points = np.cumsum(rng.normal(0, 9, (12, 2)), axis=0) + rng.integers(40, 180, 2)
            ImageDraw.Draw(img).line([tuple(p) for p in points], fill=(40, 40, 40), width=3)
        img.save(root / cls / f"{i:05d}.jpg", quality=90)
    return root


_CHILD = textwrap.dedent("""
    import json, os, sys, time
    import numpy as np
    from pathlib import Path

    def rss_mib(field="VmRSS"):  # VmHWM for the peak: ru_maxrss would include the parent's
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith(field + ":")) / 1024

    what, root = sys.argv[1], Path(sys.argv[2])
    from PIL import Image
    from core.data.dataset import load_dataset
    from core.settings import Settings
    if what != "baseline":  # one small load through the worker pool: imports, PIL plugins
        warm = Path(sys.argv[5])
        load_dataset(sys.argv[4].replace(str(root), str(warm)),
                     Settings(workspace=Path(sys.argv[3]) / "warm", data_roots=(warm,)))
    before = rss_mib()
    if what == "baseline":
        start = time.perf_counter()
        files = sorted(p for d in sorted(root.iterdir()) for p in d.iterdir())
        arrays = []
        for path in files:
            with Image.open(path) as img:
                arrays.append(np.asarray(img.convert("L").resize((32, 32), Image.BILINEAR)))
        images = np.stack(arrays)
        out = {"first": time.perf_counter() - start, "n": len(images)}
    else:
        settings = Settings(workspace=Path(sys.argv[3]) / "measured", data_roots=(root,))
        spec = sys.argv[4]
        start = time.perf_counter()
        ds = load_dataset(spec, settings)
        first = time.perf_counter() - start
        assert not ds.from_cache
        peak = rss_mib("VmHWM")
        start = time.perf_counter()
        again = load_dataset(spec, settings)
        cached = time.perf_counter() - start
        assert again.from_cache and np.array_equal(again.images, ds.images)
        out = {"first": first, "cached": cached, "n": len(ds.labels),
               "array_mib": ds.images.nbytes / 2**20, "peak_over_start_mib": peak - before}
    print(json.dumps(out))
""")


def _tree_rss_mib(root_pid: int) -> float:
    """Summed RSS of root_pid and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total / 2**20


def _run_child(*args: str) -> tuple[dict, float]:
    """(the child's JSON line, peak RSS of its process tree in MiB)."""
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    peak = 0.0

    def sample() -> None:
        nonlocal peak
        while proc.poll() is None:
            peak = max(peak, _tree_rss_mib(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"folder_scale child failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1]), peak


def folder_scale(repeats: int) -> list[Figure]:
    with tmp_dir("cracks-warm") as warm:
        write_crack_folder(warm, 2 * 400, seed=1)  # enough files for two workers
        return [figure for n in RUNGS for figure in _rung(n, repeats, warm)]


def _rung(n: int, repeats: int, warm: Path) -> list[Figure]:
    from core.data.decode import CHUNK, usable_cores

    first_goal, cached_goal = GOALS.get(n, (None, None))
    base = Figure("folder_scale", f"baseline: 1-process PIL loop, {n:,} files")
    first = Figure("folder_scale", f"load first, {n:,} -> 32x32 L ({usable_cores()} cores)",
                   goal=first_goal, baseline=base.name)
    cached = Figure("folder_scale", f"load cached, {n:,}", goal=cached_goal, baseline=base.name)
    batch_mib = CHUNK * SIZE * SIZE / 2**20
    memory = Figure("folder_scale", f"loader peak RSS over start, {n:,}", unit="MiB",
                    goal=2 * n * SIZE * SIZE / 2**20 + batch_mib if n in GOALS else None)
    tree = Figure("folder_scale", f"process tree peak RSS (all workers), {n:,}", unit="MiB")
    with tmp_dir(f"cracks-{n}") as root:
        started = time.perf_counter()
        write_crack_folder(root, n)
        print(f"  wrote {n:,} JPEGs in {time.perf_counter() - started:.0f} s", file=sys.stderr,
              flush=True)
        for _ in range(repeats):
            base_out, _ = _run_child("baseline", str(root))
            base.values.append(base_out["first"])
            with tmp_dir("ws") as ws:
                out, peak = _run_child("load", str(root), str(ws), SPEC.format(root=root),
                                       str(warm))
            assert out["n"] == base_out["n"] == n, (out, base_out)
            first.values.append(out["first"])
            cached.values.append(out["cached"])
            memory.values.append(out["peak_over_start_mib"])
            tree.values.append(peak)
    return [first, cached, base, memory, tree]
