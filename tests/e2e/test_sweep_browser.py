"""The Sweep page in a real browser: define a grid, run it, watch it end, filter the trials on
the parallel plot, open the best in Evaluate."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.journey import MAIN, open_expander, settle, table_rows
from tests.polling import wait_for

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
    plot = page.locator(f".st-key-sweep_parcoords_{sweep.id} .js-plotly-plot").first
    expect(plot).to_be_visible()
    rows = results.trials(app_workspace, sweep)
    best = results.best(rows, maximize=True)
    # filter on the parallel plot: a drag on the metric axis (the last, its lowest value at the
    # bottom) from halfway between the two best values to past its top keeps the best trial(s)
    values = [r["value"] for r in rows]
    top, second = sorted(set(values), reverse=True)[:2]
    cut = (top + second) / 2
    kept = [v for v in values if v > cut]
    brush = plot.locator(".axis-brush .background").last
    box = brush.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * (top - cut) / (top - min(values)))
    page.mouse.down()
    page.mouse.move(x, box["y"] + 1, steps=5)
    page.mouse.move(x, box["y"] - 20, steps=5)
    page.mouse.up()
    expect(page.locator(MAIN)).to_contain_text(f"{len(kept)} of 4 trials inside the brushed ranges of val_acc",
                                               timeout=60_000)
    settle(page)
    wait_for(lambda: len(table_rows(page, f"sweep_trials_{sweep.id}")) == len(kept), timeout=60)
    page.locator(f".st-key-open_evaluate_{best['run']} button").first.click()
    expect(page.locator(MAIN).get_by_role("heading", level=1)).to_have_text("Evaluate", timeout=120_000)
    settle(page)
    expect(page.get_by_role("combobox", name="Classifier run")).to_have_value(
        f"sweep {sweep.id} #{best['number']} ({best['run']}) · digits · mlp · done")
