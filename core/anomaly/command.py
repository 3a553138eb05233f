"""`python -m core threshold`: tune an anomaly threshold on validation, report it on test with
95% intervals; --save keeps the record with the run (the default of the Anomaly page and of
predict), --report FILE writes the decision report (one self-contained HTML file)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from core.console import GeneratedHelp
from core.errors import UserError


def strategies_help() -> str:
    """The strategies a --strategy flag takes, from their registry (shown only with --help)."""
    from core.anomaly.strategies import strategy_texts

    return ", ".join(strategy_texts())


def scores_help() -> str:
    from core.anomaly.scores import SCORES

    return ", ".join(SCORES)


def register(sub) -> None:
    p = sub.add_parser("threshold", help="tune an anomaly threshold on val, report it on test",
                       formatter_class=GeneratedHelp)
    p.add_argument("run", help="autoencoder or VAE run id")
    p.add_argument("--strategy", default="f1", help=strategies_help)
    p.add_argument("--score", default="mse", help=scores_help)
    p.add_argument("--normal", help="comma-separated normal classes (default: the run's own)")
    p.add_argument("--save", action="store_true",
                   help="save the threshold with the run (used by the Anomaly page and predict)")
    p.add_argument("--report", metavar="FILE", help="write the decision report (HTML) here")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=threshold_command)


def threshold_command(args) -> int:
    from core.anomaly.decide import decide, finite_summary, save_decision
    from core.anomaly.record import Author
    from core.runs.store import open_store
    from core.settings import Settings

    settings = Settings.from_env()
    run = open_store(settings).get(args.run)
    if not run.checkpoint("best").exists():
        raise UserError(f"{run.name()} has no trained model yet (no best.pt in {run.path}); "
                        "train it or choose another run")
    if args.report and not Path(args.report).expanduser().parent.is_dir():
        raise UserError(f"cannot write the report to {args.report}: its folder does not exist")
    normal = tuple(c for c in (args.normal or "").split(",") if c) or None
    decision = decide(run, settings, args.score, args.strategy, normal, Author.CLI)
    for warning in decision.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    record = decision.record
    if args.report:
        from core.anomaly.report import write_report

        write_report(decision, settings, Path(args.report).expanduser())
    if args.save:
        save_decision(decision, settings)
    result = {"run": run.id, "score": args.score, "strategy": args.strategy,
              "threshold": record.value, "normal_classes": list(record.normal_classes),
              "trained_on_normal_only": decision.a.trained_on_normal_only,
              "record": record.to_json(), "saved": bool(args.save),
              "val": finite_summary(decision.report("val")),
              "test": finite_summary(decision.report("test"))}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{run.name()}: {args.score} >= {record.value:.6g} is an anomaly ({args.strategy}, "
          f"tuned on val, reported on test)")
    for split in ("val", "test"):
        m = decision.report(split)
        ci = m["intervals"]
        print(f"  {split:<5} TPR {m['tpr']:.3f} {_ci(ci['tpr'])}  TNR {m['tnr']:.3f} {_ci(ci['tnr'])}"
              f"  precision {m['precision']:.3f} {_ci(ci['precision'])}  F1 {m['f1']:.3f} {_ci(ci['f1'])}"
              f"  TP {m['tp']} FP {m['fp']} TN {m['tn']} FN {m['fn']}"
              + (f"  cost {m['cost']:g}" if "cost" in m else ""))
    print("  95% intervals: Wilson for TPR, TNR and precision; F1 by the delta method")
    if args.save:
        print(f"saved: {record.describe()}")
    if args.report:
        print(f"report written to {args.report}")
    if not decision.a.trained_on_normal_only:
        print("note: this run saw the anomaly classes during training", file=sys.stderr)
    return 0


def _ci(interval) -> str:
    lo, hi = interval
    return "[n/a]" if lo != lo else f"[{lo:.2f}, {hi:.2f}]"
