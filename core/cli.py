"""`python -m core`: the same operations the pages use, for a shell or a script.

Errors a user can cause print one line to stderr and exit with status 2.
"""
from __future__ import annotations

import argparse
import json
import sys

from core.errors import UserError


def _cmd_sources(args) -> int:
    from core.sources import all_sources

    rows = [{"name": s.name, "title": s.title, "needs_root": s.needs_root,
             "description": s.description} for s in all_sources()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['name']:<14} {r['description']}" + ("  [root=...]" if r["needs_root"] else ""))
    return 0


def _cmd_describe(args) -> int:
    from core.datasets import load_dataset
    from core.stats import summary

    ds = load_dataset(args.spec, download=args.download)
    info = summary(ds)
    info["load_seconds"] = round(ds.load_seconds, 3)
    info["from_cache"] = ds.from_cache
    if args.json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    print(f"dataset   {info['spec']}")
    print(f"shape     {info['channels']} x {info['height']} x {info['width']} (C x H x W), "
          f"{info['n_classes']} classes")
    splits = list(info["per_class"])
    print(f"{'class':<16}" + "".join(f"{s:>8}" for s in splits))
    for i, name in enumerate(info["classes"]):
        print(f"{name[:16]:<16}" + "".join(f"{info['per_class'][s][i]:>8}" for s in splits))
    print(f"{'total':<16}" + "".join(f"{info['images'][s]:>8}" for s in splits))
    print("max/min   " + ", ".join(f"{s} {r:.2f}" for s, r in info["imbalance_ratio"].items()))
    if info["skipped"]:
        print(f"skipped   {len(info['skipped'])} file(s):")
        for path, reason in info["skipped"]:
            print(f"  {path}: {reason}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("sources", help="list the dataset sources")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_sources)
    p = sub.add_parser("describe", help="counts per class and split, shape, pixel statistics")
    p.add_argument("spec", help="dataset spec, e.g. digits or 'cifar100?root=data&classes=clock,crocodile'")
    p.add_argument("--json", action="store_true")
    p.add_argument("--download", action="store_true", help="download torchvision files if missing")
    p.set_defaults(func=_cmd_describe)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
