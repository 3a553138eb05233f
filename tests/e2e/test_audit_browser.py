"""Journey: a folder dataset whose train/ holds 20 copies of test images and a classifier run on
it -> Audit finds the 20 leaks -> "exclude all duplicates of test images" writes the decisions
file -> "train again with these fixes" -> the comparison appears when the sibling is done."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.data import labels as decided
from core.runs.store import RunStore
from core.training.config import TrainConfig
from core.training.runner import train_run
from tests.audit_data import N_LEAKS, write_leaky_digits
from tests.e2e import journey as j

pytestmark = pytest.mark.browser


def _spin(page, label: str, value: int) -> None:
    box = page.locator(j.MAIN).get_by_role("spinbutton", name=label)
    box.fill(str(value))
    box.press("Enter")
    j.settle(page)


def test_find_decide_retrain_compare(page, journey_app, monkeypatch):
    folder = write_leaky_digits(journey_app.data_root / "leaky")
    monkeypatch.setenv("DASH_WORKSPACE", str(journey_app.workspace))
    monkeypatch.setenv("DASH_DATA_ROOTS", str(journey_app.data_root))
    config = TrainConfig(dataset=f"folder?root={folder.root}", model="mlp", epochs=2, threads=1,
                         model_params={"hidden": [32]}, name="leaky mlp")
    run = RunStore(journey_app.workspace / "runs").create(config)
    train_run(run, config)

    page.goto(f"{journey_app.url}/audit?run={run.id}")
    j.settle(page)
    _spin(page, "Folds", 2)
    _spin(page, "Epochs per fold", 1)
    page.locator(j.MAIN).get_by_role("button", name="Start the audit").click()
    expect(j.metric(page, "Train/test leaks")).to_have_text(str(N_LEAKS), timeout=300_000)
    j.no_exception(page)

    page.locator(j.MAIN).get_by_role("button", name=f"Exclude all {N_LEAKS} duplicates of test images").click()
    expect(page.locator(j.MAIN).get_by_text(f"{N_LEAKS} decision(s) written to fixes.csv")).to_be_visible(
        timeout=60_000)
    saved = decided.read(decided.decisions_dir(journey_app.workspace) / "fixes.csv")[0]
    assert len(saved) == N_LEAKS and all(d.action == decided.Action.EXCLUDE for d in saved)

    page.locator(j.MAIN).get_by_role("button", name="Train again with these fixes").click()
    expect(page.locator(j.MAIN).get_by_text("changed prediction")).to_be_visible(timeout=300_000)
    expect(page.locator(j.MAIN).get_by_text("accuracy", exact=True).first).to_be_visible()
    j.no_exception(page)
    j.shot(page, "journey_audit.png")
