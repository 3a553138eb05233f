"""Bulk decisions on the Latent page's map, in AppTest: the rows a box or lasso selects are
written by the map's selection callback into the session model, which the test sets (AppTest
cannot send plotly selection events; tests/e2e/test_latent_browser.py drags a real box), then
excluded or relabelled as one batch into a decisions file that load_dataset applies."""
from __future__ import annotations

import numpy as np
import pytest

from core.data import labels as decided
from core.data.dataset import load_dataset
from core.runs.store import open_store
from core.training.config import TrainConfig
from core.training.runner import train_run
from dashboard.sections.latent_map import SELECTED
from dashboard.state import MODEL, keyed
from tests.apptest_helpers import open_page
from tests.audit_data import write_leaky_digits


@pytest.fixture(autouse=True)
def no_background_projections(monkeypatch) -> None:
    monkeypatch.setenv("DASH_AUTO_PROJECTIONS", "0")


def _select(at, run_id: str, rows) -> None:
    at.session_state[MODEL + keyed(SELECTED, run_id)] = [int(r) for r in rows]
    at.run()
    assert not at.exception, at.exception


def _write(at, action: str, label: str | None = None, name: str = "fixes.csv") -> None:
    at.text_input(key="latent_decide_file").set_value(name)
    at.radio(key="latent_decide_action").set_value(decided.Action(action))
    if label is not None:
        at.run()
        at.selectbox(key="latent_decide_label").set_value(label)
    at.button(key="latent_decide_write").click().run()
    assert not at.exception, at.exception


def test_a_selection_is_relabelled_then_another_excluded(settings) -> None:
    at = open_page("latent", run="digits-classifier")
    assert not at.expander  # nothing selected: nothing to decide
    relabel, exclude = [5, 40, 1200], [7, 40, 900]  # row 40 is decided twice: the later wins
    _select(at, "digits-classifier", relabel)
    assert at.expander[0].label == "Decide on the 3 selected images"
    _write(at, "relabel", "7")
    assert "3 decision(s) written to fixes.csv" in at.success[0].value
    _select(at, "digits-classifier", exclude)
    _write(at, "exclude")
    saved, _ = decided.read(decided.decisions_dir(settings.workspace) / "fixes.csv")
    assert [(d.index, d.action, d.label, d.reason, d.file) for d in saved] == [
        (5, decided.Action.RELABEL, "7", "latent map selection", ""),
        (7, decided.Action.EXCLUDE, "", "latent map selection", ""),
        (40, decided.Action.EXCLUDE, "", "latent map selection", ""),
        (900, decided.Action.EXCLUDE, "", "latent map selection", ""),
        (1200, decided.Action.RELABEL, "7", "latent map selection", "")]
    assert all(d.date == decided.today() for d in saved)
    ds = load_dataset("digits?labels=fixes.csv", settings)
    assert (ds.decisions.relabelled, ds.decisions.excluded) == (2, 3)
    assert any("digits?labels=fixes.csv" in c.value for c in at.caption)


def test_rows_of_a_decided_folder_dataset_are_written_as_its_files(settings, data_root) -> None:
    """On a run whose dataset already has a decisions file, a map row is not the row a decisions
    file names: the batch names the undecided row (origin) and the file."""
    folder = write_leaky_digits(data_root / "digits", n_leaks=0)
    spec = f"folder?root={folder.root}"
    decided.save(decided.decisions_dir(settings.workspace) / "first.csv",
                 [decided.Decision(i, decided.Action.EXCLUDE) for i in range(10)])
    config = TrainConfig(dataset=f"{spec}&labels=first.csv", model="mlp", epochs=1, threads=1,
                         model_params={"hidden": [16]})
    run = open_store(settings).create(config)
    train_run(run, config)
    ds = load_dataset(config.dataset, settings)
    at = open_page("latent", run=run.id)
    rows = np.array([0, 3, 500])
    _select(at, run.id, rows)
    _write(at, "relabel", "0", name="second.csv")
    saved, _ = decided.read(decided.decisions_dir(settings.workspace) / "second.csv")
    assert [(d.index, d.file) for d in saved] == [(10, ds.files[0]), (13, ds.files[3]), (510, ds.files[500])]
    after = load_dataset(f"{spec}&labels=second.csv", settings)
    relabelled = [after.classes[after.labels[list(after.files).index(ds.files[r])]] for r in rows]
    assert relabelled == ["0", "0", "0"] and after.decisions.relabelled == 3


def test_an_unreadable_decisions_file_is_left_alone(settings) -> None:
    path = decided.decisions_dir(settings.workspace) / "fixes.csv"
    path.parent.mkdir(parents=True)
    path.write_text("index,action\n5,delete\n")
    at = open_page("latent", run="digits-classifier")
    _select(at, "digits-classifier", [1, 2])
    _write(at, "exclude")
    assert "fixes.csv was not changed" in at.error[0].value and "keep, relabel or exclude" in at.error[0].value
    assert path.read_text() == "index,action\n5,delete\n"
