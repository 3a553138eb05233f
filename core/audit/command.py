"""`python -m core audit RUN_OR_SPEC`: label issues, duplicates and leaks, outliers; and
`--compare SIBLING`: a run retrained with fixes next to the original."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from core.console import dumps
from core.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("audit", help="likely label errors (cleanlab on cross-fitted probabilities), "
                                     "duplicates and train/test leaks, outliers")
    p.add_argument("target", metavar="RUN_OR_SPEC", help="a classifier run (its own config) or a "
                                                         "dataset spec (the default classifier)")
    p.add_argument("--folds", type=int, default=3, help="cross-fitting folds (2-20)")
    p.add_argument("--epochs", type=int, help="epochs per fold (default: the run's, at most 10)")
    p.add_argument("--model", help="the classifier for a dataset spec (default: default_cnn); a "
                                    "run is audited with its own config")
    p.add_argument("--sample", type=int, help="audit a seeded sample of this many training images")
    p.add_argument("--max-minutes", type=float, default=30.0,
                   help="refuse (after a few seconds' measurement) an audit estimated to take longer")
    p.add_argument("--compare", metavar="SIBLING", help="compare this run with TARGET (a run) on "
                                                        "the test split instead of auditing")
    p.add_argument("--top", type=int, default=20, help="rows of each list printed (not --json)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--job-file", help=argparse.SUPPRESS)  # status file the dashboard polls
    p.set_defaults(func=audit_command)


def audit_command(args) -> int:
    from core.settings import Settings

    settings = Settings.from_env()
    if args.compare:
        return _compare(args, settings)
    from core.audit.report import AuditOptions, run_audit
    from core.io.atomic import write_json
    from core.runs.jobs import progress_reporter
    from core.runs.status import JobState
    from core.runs.threads import ThreadBudget, ThreadShare

    if args.epochs is not None and not 1 <= args.epochs <= 1000:
        raise UserError(f"--epochs must be between 1 and 1000, not {args.epochs}")
    if not 0 < args.max_minutes <= 7 * 24 * 60:
        raise UserError("--max-minutes must be above 0 and at most a week")
    options = AuditOptions(folds=args.folds, epochs=args.epochs, sample=args.sample,
                           max_minutes=args.max_minutes, model=args.model)
    job = Path(args.job_file) if args.job_file else None
    report = progress_reporter(job) if job else _terminal_progress()
    if job and hasattr(os, "nice"):
        os.nice(10)  # a page started it: its server and browser go first
    started = time.time()
    try:
        with ThreadShare(ThreadBudget.for_workspace(settings.workspace), kind="audit"):
            result = run_audit(args.target, settings, options, progress=report)
    except BaseException as exc:
        if job:
            from core.io.atomic import read_json

            if (read_json(job) or {}).get("state") == JobState.RUNNING:
                write_json(job, {"state": JobState.FAILED, "error": " ".join(str(exc).split())[:500] or
                                 type(exc).__name__, "started": started})
        raise
    finally:
        if not job and sys.stderr.isatty():
            print("\r\033[K", end="", file=sys.stderr, flush=True)
    if job:
        write_json(job, {"state": JobState.DONE, "started": started, "seconds": time.time() - started,
                         "fraction": 1.0, "key": result["key"], "pid": os.getpid()})
    if args.json:
        print(dumps(result, indent=1, ensure_ascii=False))
    else:
        _print(result, args.top)
    return 0


def _terminal_progress():
    if not sys.stderr.isatty():
        return None

    def progress(fraction: float, stage: str) -> None:
        print(f"\r{stage} ({fraction:.0%})", end="", file=sys.stderr, flush=True)

    return progress


def _print(r: dict, top: int) -> None:
    s = r["seconds"]
    print(f"audit of {r['dataset']}: {r['audited']:,} training images"
          + (f" (a sample of {r['of_train']:,})" if r["sampled"] else "")
          + f", {r['folds']} folds x {r['epochs']} epochs" + (" (cached)" if r["from_cache"] else ""))
    print(f"train/test leaks: {r['leaks']} test image(s) have a duplicate in train or val")
    print(f"label issues: {r['n_label_issues']} flagged by cleanlab; most likely first:")
    print(f"  {'index':>7} {'given':>10} {'suggested':>10} {'score':>8}")
    for row in r["label_issues"][:top]:
        print(f"  {row['index']:>7} {row['given'][:10]:>10} {row['suggested'][:10]:>10} {row['score']:>8.4f}")
    print(f"duplicates: {len(r['duplicates'])} pair(s)")
    for d in r["duplicates"][:top]:
        print(f"  {d['a']:>7} ({d['split_a']}) ~ {d['b']:>7} ({d['split_b']})"
              + ("  exact" if d["exact"] else f"  diff {d['pixel_diff']:.3f}") + ("  LEAK" if d["leak"] else ""))
    print("outliers (kNN distance on the codes): " + ", ".join(
        str(o["index"]) for o in r["outliers"][:top]))
    print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in s.items()))


def _compare(args, settings) -> int:
    from core.audit.compare import HEADLINE, compare_runs
    from core.runs.store import open_store

    store = open_store(settings)
    result = compare_runs(store.get(args.target), store.get(args.compare), settings)
    if args.json:
        print(dumps(result, indent=1, ensure_ascii=False))
        return 0
    print(f"{'':<20} {'original':>12} {'with fixes':>12}")
    for k in HEADLINE:
        print(f"{k:<20} {result['original'][k]:>12.4f} {result['sibling'][k]:>12.4f}")
    print(f"{'test images':<20} {result['original']['n']:>12} {result['sibling']['n']:>12}")
    print(f"{result['n_changed']} test image(s) changed prediction")
    return 0
