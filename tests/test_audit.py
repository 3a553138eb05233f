"""The audit on data the tests write: flipped labels found by cleanlab on cross-fitted
probabilities, test images copied into train found as leaks, and a sibling run retrained
without the flipped images compared with the original."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.audit.compare import compare_runs, sibling_config
from core.audit.issues import precision_recall_at
from core.audit.report import AuditOptions, run_audit
from core.cli import main
from core.data import labels as decided
from core.data.dataset import load_dataset
from core.runs.store import open_store
from core.training.config import TrainConfig
from core.training.runner import train_run
from tests.audit_data import N_LEAKS, write_leaky_digits

FAST = AuditOptions(folds=3, epochs=10, model="mlp", model_params=(("hidden", [64]),))
FLIP_SHARE = 0.05


def _write_flips(settings, name="flips.csv") -> np.ndarray:
    """Relabel 5% of the digits training images to another class; their dataset rows."""
    ds = load_dataset("digits", settings)
    train = ds.indices("train")
    rng = np.random.default_rng(1)
    rows = np.sort(rng.choice(train, int(FLIP_SHARE * len(train)), replace=False))
    wrong = (ds.labels[rows] + rng.integers(1, len(ds.classes), len(rows))) % len(ds.classes)
    decided.save(decided.decisions_dir(settings.workspace) / name,
                 [decided.Decision(int(r), decided.Action.RELABEL, ds.classes[w], "test flip")
                  for r, w in zip(rows, wrong)])
    return rows


def test_flipped_labels_come_first(settings, capsys) -> None:
    flipped = _write_flips(settings)
    report = run_audit("digits?labels=flips.csv", settings, FAST)
    ranked = np.array([r["index"] for r in report["label_issues"]])
    k = len(flipped)  # the top 5% of the ranking
    precision, recall = precision_recall_at(ranked, flipped, k)
    clean = run_audit("digits", settings, FAST)
    top_flipped = np.mean([r["score"] for r in report["label_issues"][:k]])
    top_clean = np.mean([r["score"] for r in clean["label_issues"][:k]])
    with capsys.disabled():
        print(f"\nflips {k}: precision@{k} {precision:.3f} recall@{k} {recall:.3f}; mean label "
              f"quality of the top {k}: {top_flipped:.3f} with flips, {top_clean:.3f} without")
    assert len(ranked) >= k and recall >= 0.8
    assert top_clean > top_flipped  # without flips the top of the ranking is less sure of an error
    given = {r["index"]: r for r in report["label_issues"]}
    hit = [i for i in flipped if i in given and given[i]["given"] != given[i]["suggested"]]
    assert len(hit) >= 0.8 * k  # flagged images come with a suggested label other than the given
    assert run_audit("digits?labels=flips.csv", settings, FAST)["from_cache"]


def test_test_images_copied_into_train_are_leaks(settings, data_root, capsys) -> None:
    folder = write_leaky_digits(data_root / "leaky")
    spec = f"folder?root={folder.root}"
    code = main(["audit", spec, "--json", "--model", "mlp", "--folds", "2", "--epochs", "3"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    ds = load_dataset(spec, settings)
    # the folder source lists test files class by class, in name order, after the train files
    test_names = sorted((p.parent.name, p.name) for p in (folder.root / "test").rglob("*.png"))
    n_train = len(list((folder.root / "train").rglob("*.png")))
    leaked_rows = {n_train + i for i, (_, name) in enumerate(test_names) if name in folder.leaked}
    assert len(leaked_rows) == N_LEAKS and (ds.split[list(leaked_rows)] == 2).all()
    leak_pairs = [d for d in out["duplicates"] if d["leak"]]
    found = {d["a"] if d["split_a"] == "test" else d["b"] for d in leak_pairs}
    assert found == leaked_rows
    assert out["leaks"] == N_LEAKS
    assert out["duplicates"][:len(leak_pairs)] == leak_pairs  # leaks listed first
    assert {d["split_a"] for d in leak_pairs} | {d["split_b"] for d in leak_pairs} <= {"train", "val", "test"}
    # each side of a pair names its file: the leaked test file, and a copy under train/ or val
    leaked_files = {d["file_a"] if d["split_a"] == "test" else d["file_b"] for d in leak_pairs}
    assert {Path(f).name for f in leaked_files} == set(folder.leaked)
    assert all(f == ds.files[i] for d in leak_pairs for f, i in ((d["file_a"], d["a"]), (d["file_b"], d["b"])))
    assert all(row["file"] == ds.files[row["index"]] for row in out["label_issues"])


def test_excluding_the_flips_and_retraining_is_compared(settings, capsys) -> None:
    flipped = _write_flips(settings)
    folder = decided.decisions_dir(settings.workspace)
    noisy = decided.read(folder / "flips.csv")[0]
    excluded = [decided.Decision(int(i), decided.Action.EXCLUDE, reason="flipped") for i in flipped]
    decided.save(folder / "fixes.csv", decided.merge(noisy, excluded))
    store = open_store(settings)
    config = TrainConfig(dataset="digits?labels=flips.csv", model="mlp", epochs=8, threads=1,
                         model_params={"hidden": [64]})
    original = store.create(config)
    train_run(original, config)
    fixed_config = sibling_config(config, "fixes.csv")
    sibling = store.create(fixed_config)
    train_run(sibling, fixed_config)
    assert sibling.status()["decisions"]["excluded"] == len(flipped)
    result = compare_runs(original, sibling, settings)
    with capsys.disabled():
        print(f"\ntest accuracy: original {result['original']['accuracy']:.4f}, without the "
              f"flipped images {result['sibling']['accuracy']:.4f}; {result['n_changed']} changed")
    assert result["original"]["n"] == result["sibling"]["n"]  # only training images were excluded
    assert result["sibling"]["accuracy"] >= result["original"]["accuracy"] - 0.02
    assert all(c["before"] != c["after"] for c in result["changed"])
    code = main(["audit", original.id, "--compare", sibling.id, "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["n_changed"] == result["n_changed"]


def test_an_autoencoder_run_is_audited_through_its_codes(settings) -> None:
    """No classifier: a cross-fitted logistic regression on the shipped conv AE's codes."""
    report = run_audit("digits-conv-ae", settings, AuditOptions(folds=3))
    assert report["probabilities"] == "logistic regression on the run's codes"
    scores = [r["score"] for r in report["label_issues"]]
    assert scores == sorted(scores) and len(scores) >= 0.05 * report["audited"]
    assert report["leaks"] == 0 and report["audited"] == len(load_dataset("digits", settings).indices("train"))


@pytest.mark.parametrize("rows, message", [
    ("index,action,label\n5,relabel,x\n", "not a class"),
    ("index,action,label\n5,exclude,\n5,exclude,\n", "decided twice"),
    ("index,action,label\n5,exclude,\n5,relabel,3\n", "conflicting decisions"),
    ("index,action,label\n99999,exclude,\n", "outside this dataset"),
    ("file,action,label\na.png,exclude,\n", "this dataset has no files"),
    ("index,action,label\n5,delete,\n", "keep, relabel or exclude"),
])
def test_bad_decisions_files_are_one_line(settings, capsys, rows, message) -> None:
    folder = decided.decisions_dir(settings.workspace)
    folder.mkdir(parents=True)
    (folder / "bad.csv").write_text(rows)
    assert main(["describe", "digits?labels=bad.csv"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_changed_decisions_file_stops_a_resume(settings) -> None:
    _write_flips(settings)
    store = open_store(settings)
    config = TrainConfig(dataset="digits?labels=flips.csv", model="mlp", epochs=2, threads=1,
                         model_params={"hidden": [16]}, schedule="none")
    run = store.create(config)
    train_run(run, config)
    path = decided.decisions_dir(settings.workspace) / "flips.csv"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))  # one decision less
    with pytest.raises(Exception, match="changed since run"):
        train_run(run, TrainConfig.from_dict({**config.to_dict(), "epochs": 3}), resume=True)


@pytest.mark.parametrize("argv, message", [
    (["audit", "digits?classes=3", "--folds", "2"], "one class only"),
    (["audit", "digits", "--sample", "5", "--folds", "2"], "only 5 training images"),
    (["audit", "digits", "--folds", "1"], "folds must be between 2 and 20"),
    (["audit", "digits", "--model", "conv_ae"], "not a classifier"),
    (["audit", "digits", "--model", "mlp", "--epochs", "1000", "--max-minutes", "0.01"],
     "would take about"),
])
def test_audits_that_cannot_run_are_one_line(settings, capsys, argv, message) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
