"""Run the benchmarks: `python -m tests.bench [--only NAME[,NAME]] [--repeats N] [--check]`.

Prints one table (median, min, max over the repeats; goal; ratio to the baseline measured in
the same run) and writes the figures to tests/artifacts/bench.json. With `--check` the exit
status is 1 when any figure misses its stated goal (not run in CI: these machines are shared).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

from tests.bench.anomaly_quality import anomaly_digits
from tests.bench.app_memory import app_memory
from tests.bench.audit_digits import audit_digits
from tests.bench.audit_mnist_size import audit_mnist_size
from tests.bench.browser_pages import evaluate_cell, latent_selection
from tests.bench.cold_start import cold_start
from tests.bench.common import Figure
from tests.bench.concurrency import metrics_poll, two_runs, watched_run
from tests.bench.data_load import digits_load, idx_60k
from tests.bench.evaluate_scale import evaluate_scale
from tests.bench.folder_scale import folder_scale
from tests.bench.latent_projection import latent_projection
from tests.bench.predict import predict_memory, predict_throughput
from tests.bench.scale_ladder import scale_ladder
from tests.bench.sweeps import sweep_grid, sweep_prune, two_workers
from tests.bench.teaching import eta_error, first_umap_fresh_clone, probe_overhead, time_to_first_point
from tests.bench.threshold_commit import threshold_commit
from tests.bench.threshold_drag import threshold_drag
from tests.bench.thresholds import threshold_sweep
from tests.bench.training import default_cnn_digits, engine_vs_bare, metric_to_browser, train_memory
from tests.e2e import server as srv

BENCHMARKS = {"cold_start": cold_start, "digits_load": digits_load, "idx_60k": idx_60k,
              "folder_scale": folder_scale,
              "app_memory": app_memory, "engine_vs_bare": engine_vs_bare,
              "default_cnn_digits": default_cnn_digits, "metric_to_browser": metric_to_browser,
              "train_memory": train_memory,
              "threshold_sweep": threshold_sweep, "latent_projection": latent_projection,
              "anomaly_digits": anomaly_digits, "evaluate_cell": evaluate_cell,
              "threshold_drag": threshold_drag, "threshold_commit": threshold_commit,
              "latent_selection": latent_selection,
              "predict_throughput": predict_throughput, "predict_memory": predict_memory,
              "scale_ladder": scale_ladder, "evaluate_scale": evaluate_scale,
              "two_runs": two_runs, "watched_run": watched_run, "metrics_poll": metrics_poll,
              "sweep_grid": sweep_grid, "sweep_prune": sweep_prune, "two_workers": two_workers,
              "audit_digits": audit_digits, "audit_mnist_size": audit_mnist_size,
              "time_to_first_point": time_to_first_point, "probe_overhead": probe_overhead,
              "eta_error": eta_error, "first_umap_fresh_clone": first_umap_fresh_clone}
NEEDS_BROWSER = {"cold_start", "app_memory", "metric_to_browser", "evaluate_cell",
                 "threshold_drag", "threshold_commit", "latent_selection", "scale_ladder",
                 "watched_run"}
JSON_PATH = srv.ARTIFACTS / "bench.json"


def _fmt(value: float, unit: str) -> str:
    return f"{value:.0f}" if unit == "MiB" else f"{value:.3g}"


def _rows(figures: list[Figure]) -> list[dict]:
    by_name = {(f.bench, f.name): f for f in figures}
    rows = []
    for f in figures:
        base = by_name.get((f.bench, f.baseline))
        ratio = f.median / base.median if base else None
        checks = ([f.median <= f.goal] if f.goal is not None else []) + (
            [ratio <= f.ratio_goal] if f.ratio_goal is not None and ratio is not None else [])
        rows.append({
            "bench": f.bench, "name": f.name, "unit": f.unit, "median": f.median,
            "min": min(f.values), "max": max(f.values), "values": f.values, "goal": f.goal,
            "ratio_goal": f.ratio_goal, "baseline": f.baseline, "ratio": ratio,
            "ok": all(checks) if checks else None,
        })
    return rows


def _table(rows: list[dict]) -> str:
    head = ["benchmark", "measure", "median", "min", "max", "unit", "goal", "x baseline", "ok"]
    body = [[r["bench"], r["name"], _fmt(r["median"], r["unit"]), _fmt(r["min"], r["unit"]),
             _fmt(r["max"], r["unit"]), r["unit"],
             " ".join(([f"<= {r['goal']:g}"] if r["goal"] is not None else [])
                      + ([f"<= {r['ratio_goal']:g}x"] if r["ratio_goal"] is not None else [])),
             "" if r["ratio"] is None else f"{r['ratio']:.2f}",
             {None: "", True: "yes", False: "NO"}[r["ok"]]] for r in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)) for line in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="benchmark(s) to run, comma-separated or repeated: "
                             + ", ".join(BENCHMARKS))
    parser.add_argument("--repeats", type=int, default=5, help="repeats per figure (default 5)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a figure misses its goal (its median or its ratio)")
    args = parser.parse_args(argv)
    names = [n for arg in args.only for n in arg.split(",") if n] or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown or args.repeats < 1:
        parser.error(f"unknown benchmark(s) {unknown}" if unknown else "--repeats must be >= 1")

    figures, skipped = [], []
    load_before = os.getloadavg()
    for name in names:
        if name in NEEDS_BROWSER and srv.chromium_path() is None:
            skipped.append(f"{name} (no Chromium at {srv.CHROMIUM})")
            continue
        print(f"running {name} x{args.repeats} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        figures += BENCHMARKS[name](args.repeats)
        print(f"  {name} took {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)

    rows = _rows(figures)
    print(f"\n{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load avg {load_before[0]:.2f} before / {os.getloadavg()[0]:.2f} after, "
          f"{args.repeats} repeats; x baseline = median / baseline median")
    print(_table(rows))
    for s in skipped:
        print(f"skipped: {s}")
    JSON_PATH.parent.mkdir(parents=True, exist_ok=True)
    JSON_PATH.write_text(json.dumps({"repeats": args.repeats, "cpus": os.cpu_count(),
                                     "python": platform.python_version(), "figures": rows,
                                     "skipped": skipped, "when": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=2))
    print(f"figures written to {JSON_PATH}")
    return exit_status(rows, args.check)


def exit_status(rows: list[dict], check: bool) -> int:
    """0, or 1 under --check when a figure missed its goal (each named on stderr)."""
    missed = [r for r in rows if r["ok"] is False]
    for r in missed if check else []:
        print(f"missed goal: {r['bench']} {r['name']} median {_fmt(r['median'], r['unit'])} {r['unit']}"
              + ("" if r["ratio"] is None else f", {r['ratio']:.2f}x baseline"), file=sys.stderr)
    return 1 if check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
