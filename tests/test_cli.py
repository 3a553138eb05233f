"""`python -m core` as a user runs it: real subprocesses, JSON output, non-zero exit on errors."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests import data_writers as dw

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_sources_lists_every_source() -> None:
    out = run_cli("sources", "--json")
    assert out.returncode == 0, out.stderr
    names = {row["name"] for row in json.loads(out.stdout)}
    assert names == {"digits", "mnist", "fashion_mnist", "kmnist", "cifar10", "cifar100", "k49",
                     "folder"}


def test_describe_json_counts_per_class_and_split(settings, data_root: Path) -> None:
    dw.write_k49(data_root, n_train=98, n_test=49)
    out = run_cli("describe", f"k49?root={data_root}&val_fraction=0", "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert (info["channels"], info["height"], info["width"]) == (1, 28, 28)
    assert info["images"] == {"train": 98, "test": 49}
    assert sum(info["per_class"]["train"]) == 98 and len(info["per_class"]["test"]) == 49
    assert info["imbalance_ratio"]["train"] > 1


def test_describe_table_and_errors(settings) -> None:
    out = run_cli("describe", "digits")
    assert out.returncode == 0 and "max/min" in out.stdout and "1 x 8 x 8" in out.stdout
    bad = run_cli("describe", "digits?classes=3")
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "one class only" in bad.stderr
    assert "Traceback" not in bad.stderr
    unknown = run_cli("describe", "imagenet")
    assert unknown.returncode == 2 and "known sources" in unknown.stderr
