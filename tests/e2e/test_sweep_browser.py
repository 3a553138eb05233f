"""The Sweep page in a real browser: define a grid, run it, watch it end, open the best in Evaluate."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.journey import MAIN, open_expander, settle

pytestmark = pytest.mark.browser


def test_define_run_watch_and_open_the_best(page, app_server, app_workspace) -> None:
    from core.sweeps import results
    from core.sweeps.study import list_sweeps

    before = {s.id for s in list_sweeps(app_workspace)}
    page.goto(app_server + "/sweep")
    expect(page.locator(MAIN).get_by_role("heading", level=1)).to_have_text("Sweep", timeout=120_000)
    open_expander(page, "New sweep")
    epochs = page.locator(".st-key-sweep_epochs input")
    epochs.fill("1")
    epochs.press("Enter")
    settle(page)
    axes = page.locator(".st-key-sweep_axes textarea")
    axes.fill("lr=0.01,0.003\nparam.hidden=[16],[32]")
    axes.press("Tab")  # a text area commits its value when it loses focus
    settle(page)
    expect(page.locator(MAIN)).to_contain_text("4 trials", timeout=60_000)
    page.get_by_role("button", name="Start sweep").click()
    # watch: the view redraws itself until every trial has ended
    expect(page.locator(MAIN)).to_contain_text("4 of 4 trials ended", timeout=300_000)
    (sweep,) = [s for s in list_sweeps(app_workspace) if s.id not in before]
    settle(page)
    expect(page.locator(f".st-key-sweep_parcoords_{sweep.id} .js-plotly-plot").first).to_be_visible()
    best = results.best(results.trials(app_workspace, sweep), maximize=True)
    page.locator(f".st-key-open_evaluate_{best['run']} button").first.click()
    expect(page.locator(MAIN).get_by_role("heading", level=1)).to_have_text("Evaluate", timeout=120_000)
    settle(page)
    expect(page.get_by_role("combobox", name="Classifier run")).to_have_value(
        f"sweep {sweep.id} #{best['number']} ({best['run']}) · digits · mlp · done")
