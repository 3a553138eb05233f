"""Brushing the Sweep page's parallel-coordinates plot in a real browser: a drag along an axis
keeps only the trials inside it in the table below, with plotly.js from the installed package."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.journey import MAIN, external, record_requests, settle, table_rows
from tests.polling import wait_for
from tests.sweep_records import finished_sweep

pytestmark = pytest.mark.browser


def test_a_drag_along_an_axis_filters_the_table(page, app_server, app_workspace) -> None:
    sweep = finished_sweep(app_workspace)
    seen = record_requests(page)
    page.goto(f"{app_server}/sweep?sweep={sweep.id}")
    expect(page.locator(MAIN).get_by_role("heading", level=1)).to_have_text("Sweep", timeout=120_000)
    table = f"sweep_trials_{sweep.id}"
    expect(page.locator(f".st-key-{table}")).to_be_visible(timeout=120_000)
    settle(page)
    assert len(table_rows(page, table)) == 6
    plot = page.locator(f".st-key-sweep_parcoords_{sweep.id} .js-plotly-plot")
    expect(plot).to_be_visible(timeout=60_000)
    # the brush area of the first axis (lr, 0.001 at the bottom to 0.01 at the top): drag from a
    # quarter down to past its top, where only lr = 0.01 lies (0.003 sits at 22% of the height)
    brush = plot.locator(".axis-brush .background").first
    expect(brush).to_be_visible()
    box = brush.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.25)
    page.mouse.down()
    page.mouse.move(x, box["y"] + box["height"] * 0.1, steps=5)
    page.mouse.move(x, box["y"] - 20, steps=5)
    page.mouse.up()
    expect(page.locator(MAIN)).to_contain_text("2 of 6 trials inside the brushed ranges of lr", timeout=60_000)
    settle(page)
    wait_for(lambda: len(table_rows(page, table)) == 2, timeout=60)
    assert sorted(r[2] for r in table_rows(page, table)) == ["0.91", "0.95"]  # val_acc column
    assert external(seen) == []
