"""A decisions file that names images by file, on a real folder of images the test writes: the
path under the dataset's folder (as the audit's file field shows it) or a bare name only one
image has; through load_dataset and through the CLI; bad rows are one clear line each."""
from __future__ import annotations

import json
import shutil

import pytest

from core.cli import main
from core.data import labels as decided
from core.data.dataset import load_dataset
from tests.data_writers import write_image_folder

CLASSES = ("cat", "dog", "fox")


@pytest.fixture
def folder(data_root):
    out = write_image_folder(data_root / "pets", CLASSES, n_per_class=5, size=(8, 8), mode="L",
                             with_train_test=True, corrupt=False, stray_text=False)
    shutil.copy(out["files"]["train"]["fox"][0], data_root / "pets" / "train" / "fox" / "odd_one.png")
    return out["root"]


def _write(settings, text: str, name: str = "byfile.csv") -> str:
    folder = decided.decisions_dir(settings.workspace)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return name


def test_rows_named_by_file_relabel_and_exclude(settings, folder) -> None:
    spec = f"folder?root={folder}"
    before = load_dataset(spec, settings)
    files = list(before.files)
    assert files[0] == "train/cat/img_0.png" and "train/fox/odd_one.png" in files
    name = _write(settings, "file,action,label,reason,date\n"
                            "train/cat/img_1.jpg,relabel,dog,looks like a dog,2026-12-05\n"
                            "./train/dog/img_2.png,exclude,,blurred,\n"
                            "odd_one.png,relabel,cat,,\n"  # a bare name only one image has
                            "test\\fox\\img_3.jpg,exclude,,,\n")  # written on Windows
    after = load_dataset(f"{spec}&labels={name}", settings)
    gone = {"train/dog/img_2.png", "test/fox/img_3.jpg"}
    assert list(after.files) == [f for f in files if f not in gone]
    assert list(after.decisions.origin) == [i for i, f in enumerate(files) if f not in gone]
    label = dict(zip(after.files, (after.classes[c] for c in after.labels)))
    assert label["train/cat/img_1.jpg"] == "dog" and label["train/fox/odd_one.png"] == "cat"
    assert (after.decisions.relabelled, after.decisions.excluded) == (2, 2)
    # a row may give both, when they agree; the page's writer merges by either
    both = _write(settings, f"index,file,action,label\n{files.index('train/cat/img_1.jpg')},"
                            "train/cat/img_1.jpg,relabel,fox\n", "both.csv")
    assert load_dataset(f"{spec}&labels={both}", settings).decisions.relabelled == 1
    merged = decided.merge(decided.read(decided.decisions_dir(settings.workspace) / name)[0],
                           [decided.Decision(1, decided.Action.KEEP, file="train/cat/img_1.jpg")])
    assert [(d.file, d.action) for d in merged][0] == ("train/cat/img_1.jpg", decided.Action.KEEP)
    assert len(merged) == 4


def test_the_cli_honours_a_file_named_decision(settings, folder, capsys) -> None:
    name = _write(settings, "file,action,label\ntrain/cat/img_0.png,relabel,fox\ntrain/cat/img_1.jpg,exclude,\n")
    assert main(["describe", f"folder?root={folder}", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)["per_class"]["train"]
    assert main(["describe", f"folder?root={folder}&labels={name}", "--json"]) == 0
    fixed = json.loads(capsys.readouterr().out)["per_class"]["train"]
    assert sum(plain) == sum(fixed) + 1  # one excluded (the split of the others is unchanged)
    assert fixed[0] == plain[0] - 2 and fixed[2] == plain[2] + 1  # two cats fewer, one fox more


@pytest.mark.parametrize("rows, message", [
    ("file,action,label\ntrain/cat/nope.png,exclude,\n", "no image 'train/cat/nope.png' in this dataset"),
    ("file,action,label\nimg_0.png,exclude,\n", "6 images are named 'img_0.png'"),
    ("file,action,label\ntrain/cat/img_0.png,exclude,\n./train/cat/img_0.png,exclude,\n", "is decided twice"),
    ("file,action,label\ntrain/cat/img_0.png,exclude,\ntrain/cat/img_0.png,relabel,dog\n",
     "conflicting decisions"),
    ("index,file,action,label\n0,,exclude,\n,train/cat/img_0.png,relabel,dog\n",
     "file 'train/cat/img_0.png' (index 0) has conflicting decisions (exclude and relabel to dog), lines 2 and 3"),
    ("index,file,action,label\n1,train/cat/img_0.png,exclude,\n", "index 1 is not 'train/cat/img_0.png'"),
    ("index,file,action,label\n,,exclude,\n", "name the image by index or by file"),
    ("file,action,label\ntrain/cat/img_0.png,relabel,wolf\n", "not a class"),
])
def test_bad_file_rows_are_one_line(settings, folder, capsys, rows, message) -> None:
    name = _write(settings, rows)
    assert main(["describe", f"folder?root={folder}&labels={name}"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
