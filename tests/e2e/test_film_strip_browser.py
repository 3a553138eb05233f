"""Runs in a real browser: a run's film strip scrubbed with the keyboard moves its points on
one fixed map, and the probe answers and the loss cursor follow the epoch."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.runs.store import open_store
from core.settings import Settings
from core.training.config import TrainConfig, run_config
from core.training.runner import train_run
from tests.e2e import server as srv
from tests.e2e.journey import settle

pytestmark = pytest.mark.browser
# The film chart's title, axis ranges and the first trace's first point.
FILM_JS = """(sel) => {
    const g = document.querySelector(`${sel} .js-plotly-plot`);
    if (!g || !g._fullLayout || !g._fullData.length) return null;
    const t = g._fullData[0];
    return {title: g._fullLayout.title.text, x: Number(t.x[0]), y: Number(t.y[0]),
            xrange: g._fullLayout.xaxis.range.slice(), yrange: g._fullLayout.yaxis.range.slice()};
}"""


def test_scrubbing_the_film_strip(page, app_server, app_workspace):
    run = open_store(Settings(app_workspace, ())).create(TrainConfig(
        dataset="digits", model="mlp", model_params={"hidden": [16]}, epochs=3, schedule="none",
        name="film"))
    assert train_run(run, run_config(run))[0] == "done"
    page.goto(app_server + f"/runs?runs={run.id}")
    film = f".st-key-film_{run.id}"
    expect(page.get_by_text("After epoch 3:")).to_be_visible(timeout=90_000)
    page.wait_for_function(f"() => ({FILM_JS})('{film}') !== null", timeout=60_000)
    settle(page)
    last = page.evaluate(FILM_JS, film)
    assert "epoch 3" in last["title"]
    slider = page.get_by_role("slider", name="Epoch")
    slider.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_text("After epoch 1:")).to_be_visible(timeout=60_000)
    page.wait_for_function(f"() => {{ const f = ({FILM_JS})('{film}'); "
                           "return f && f.title.includes('epoch 1'); }", timeout=60_000)
    first = page.evaluate(FILM_JS, film)
    assert (first["x"], first["y"]) != (last["x"], last["y"])  # the point moved ...
    assert first["xrange"] == last["xrange"] and first["yrange"] == last["yrange"]  # ... on one map
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)
    srv.full_page_screenshot(page, srv.ARTIFACTS / "film-strip.png")
