"""scale_ladder: the whole pipeline from 1,797 digits to Kuzushiji-49 size, and 227x227 folders.

Rungs: digits 1,797 -> MNIST-size 70,000 (IDX) -> K49-size 270,912 (.npz), and 227x227 JPEG
folders of 2,000 -> 15,000 (loaded as 32x32 gray). Each rung's files are generated under a temp
data root; each step runs in its own process (time of the step, peak RSS of the process): load
(first, cached), one epoch of the default CNN and of the conv AE, evaluate, anomaly scoring,
codes + PCA, UMAP; then the Data, Evaluate and Latent pages' first render in Chromium. Then how
each figure grows: its ratio between consecutive rungs next to the ratio of image counts.

    python -m tests.bench.scale_ladder --rungs digits,mnist     (a subset: the full ladder is long)
    python -m tests.bench --only scale_ladder                    (rungs from $SCALE_LADDER_RUNGS)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.common import Figure, tmp_dir
from tests.bench.scale_ladder_data import RUNGS, Rung
from tests.e2e import server as srv

STEPS = ("load_first", "load_cached", "train_cnn", "train_ae", "evaluate", "anomaly", "pca", "umap")
PAGES = ("Data page", "Evaluate page", "Latent page")


def _step(step: str, rung: Rung, workspace: Path, root: Path) -> dict:
    # one numba cache for the whole ladder: umap's JIT is paid on the first rung only, as on a
    # machine that has run the app before
    env = {**os.environ, "DASH_WORKSPACE": str(workspace), "DASH_DATA_ROOTS": str(root),
           "PYTHONPATH": str(srv.REPO), "NUMBA_CACHE_DIR": str(workspace.parent.parent / "numba")}
    out = subprocess.run([sys.executable, "-m", "tests.bench.scale_ladder_steps", step,
                          rung.spec(root)], cwd=srv.REPO, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{rung.name} {step} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_rung(rung: Rung, tmp: Path, say=print) -> dict[str, tuple[float, float]]:
    """{measure: (seconds, peak RSS MiB)} for one rung, its files written first."""
    from tests.bench.scale_ladder_pages import page_figures

    root, workspace = tmp / rung.name / "data", tmp / rung.name / "workspace"
    root.mkdir(parents=True)
    start = time.perf_counter()
    rung.write(root)
    say(f"{rung.name}: files written in {time.perf_counter() - start:.0f} s")
    out = {}
    for step in STEPS:
        result = _step(step, rung, workspace, root)
        out[step] = (result["seconds"], result["peak_rss_mib"])
        say(f"{rung.name}: {step} {result['seconds']:.1f} s, {result['peak_rss_mib']:.0f} MiB "
            f"{result['notes']}")
    runs = json.loads((workspace / "ladder.json").read_text())
    for page, figures in page_figures(rung, workspace, root, runs).items():
        out[page] = figures
        say(f"{rung.name}: {page} {figures[0]:.1f} s, server {figures[1]:.0f} MiB")
    return out


def growth_table(results: dict[str, dict], rungs: list[Rung]) -> str:
    """Per measure, each rung's seconds and MiB, and between consecutive rungs of one family the
    ratio of seconds next to the ratio of image counts (x1 means flat, = count ratio: linear)."""
    names = [r.name for r in rungs if r.name in results]
    head = ["measure", *[f"{n} s / MiB" for n in names]]
    pairs = [(a, b) for a, b in zip(names, names[1:])
             if a.startswith("folders") == b.startswith("folders")]
    head += [f"{b}/{a} (images x{RUNGS[b].images / RUNGS[a].images:.1f})" for a, b in pairs]
    body = []
    for measure in [*STEPS, *PAGES]:
        row = [measure]
        for n in names:
            seconds, mib = results[n][measure]
            row.append(f"{seconds:.2f} / {mib:.0f}")
        for a, b in pairs:
            ratio = results[b][measure][0] / max(results[a][measure][0], 1e-9)
            row.append(f"x{ratio:.1f} time, x{results[b][measure][1] / results[a][measure][1]:.1f} RSS")
        body.append(row)
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)) for line in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def ladder(rung_names: list[str]) -> dict[str, dict]:
    rungs = [RUNGS[n] for n in rung_names]
    results = {}
    with tmp_dir("ladder") as tmp:
        for rung in rungs:
            results[rung.name] = run_rung(rung, tmp, say=lambda s: print(s, file=sys.stderr, flush=True))
    print(f"\n{os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.2f} at the end; seconds of each "
          "step (see scale_ladder_steps) / peak RSS of its process (the server's, for pages)")
    print(growth_table(results, rungs))
    return results


def scale_ladder(repeats: int) -> list[Figure]:
    """For `python -m tests.bench`: one pass (repeats are not meaningful at this size)."""
    names = [n for n in os.environ.get("SCALE_LADDER_RUNGS", ",".join(RUNGS)).split(",") if n]
    figures = []
    for rung, measures in ladder(names).items():
        for measure, (seconds, mib) in measures.items():
            figures.append(Figure("scale_ladder", f"{rung}: {measure}", [seconds]))
            figures.append(Figure("scale_ladder", f"{rung}: {measure} peak RSS", [mib], unit="MiB"))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.scale_ladder", description=__doc__)
    parser.add_argument("--rungs", default=",".join(RUNGS),
                        help=f"comma-separated subset of {', '.join(RUNGS)} (default: all)")
    args = parser.parse_args(argv)
    names = [n for n in args.rungs.split(",") if n]
    unknown = sorted(set(names) - set(RUNGS))
    if unknown or not names:
        parser.error(f"unknown rung(s) {unknown}; choose from {', '.join(RUNGS)}")
    ladder(names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
