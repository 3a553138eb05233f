"""The Latent page in a real browser: a box dragged over the map shows the selected images, and
excludes them in one batch of decisions."""
from __future__ import annotations

import io
import re
import time

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from core.data import labels as decided
from core.data.dataset import load_dataset
from core.latent.selection import stratified_sample
from core.runs.store import open_store
from core.settings import Settings
from core.training.config import run_config
from dashboard.images import gallery_png, to_display
from dashboard.sections.latent_space import GALLERY
from tests.e2e import journey as j
from tests.e2e import server as srv

pytestmark = pytest.mark.browser
MAP = ".st-key-latent_map"
SELECTED = ".st-key-latent_selected"
COUNT = re.compile(r"([\d,]+) images selected")

# Dataset rows of the points plotly marks as selected, read from every trace's customdata.
SELECTED_ROWS_JS = """(sel) => {
    const g = document.querySelector(`${sel} .js-plotly-plot`);
    const rows = [];
    for (const t of g._fullData) {
        if (!t.selectedpoints || !t.customdata) continue;
        for (const i of t.selectedpoints) rows.push(Number(t.customdata[i]));
    }
    return rows;
}"""


def _wait_map(page) -> None:
    page.wait_for_selector(f"{MAP} .js-plotly-plot", state="visible")
    page.wait_for_function(
        """(sel) => { const g = document.querySelector(`${sel} .js-plotly-plot`);
                      return g && g._fullData && g._fullData.length > 1
                          && document.querySelector(`${sel} .nsewdrag`)
                          && !document.querySelector('[data-stale="true"]'); }""", arg=MAP)


def test_box_selection_shows_the_selected_images(page, app_server, app_workspace):
    page.goto(app_server + "/latent?run=digits-vae")
    _wait_map(page)
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)
    assert page.evaluate(
        f"() => document.querySelector('{MAP} .js-plotly-plot').layout.dragmode") == "select"

    area = page.locator(f"{MAP} .nsewdrag").first.bounding_box()
    # a box over part of the plot area (plotly's drag mode is "select")
    x0, y0 = area["x"] + 0.4 * area["width"], area["y"] + 0.4 * area["height"]
    x1, y1 = area["x"] + 0.55 * area["width"], area["y"] + 0.55 * area["height"]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=12)
    page.mouse.up()
    released = time.perf_counter()

    caption = page.locator(SELECTED).get_by_text(COUNT)
    expect(caption).to_be_visible(timeout=60_000)
    print(f"selection to grid caption: {1000 * (time.perf_counter() - released):.0f} ms")
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")
    n = int(COUNT.search(caption.inner_text()).group(1).replace(",", ""))
    gallery = page.locator(SELECTED).locator(srv.IMAGES)
    expect(gallery).to_have_count(1)  # one labelled picture, however many images
    page.wait_for_function("(sel) => { const i = document.querySelector(sel); "
                           "return i && i.complete && i.naturalWidth > 0; }",
                           arg=f"{SELECTED} img")

    # the picture holds the images of the points plotly selected (a class-stratified sample of
    # GALLERY when there are more), each labelled "#<dataset row>" and its class: the very
    # pixels core's sample and the gallery drawing give for those rows
    plotted = np.sort(page.evaluate(SELECTED_ROWS_JS, MAP))
    assert len(plotted) == n > 0
    settings = Settings(app_workspace, ())
    ds = load_dataset(run_config(open_store(settings).get("digits-vae")).dataset, settings)
    shown = stratified_sample(plotted, ds.labels, GALLERY)
    assert len(shown) == min(n, GALLERY) and set(shown) <= set(plotted)
    expected = gallery_png(to_display(ds.images[shown]),
                           [f"#{r}\n{ds.classes[ds.labels[r]]}" for r in shown], label_lines=2)
    assert np.array_equal(srv.served_picture(page, app_server, f"{SELECTED} img"),
                          np.asarray(Image.open(io.BytesIO(expected))))

    # the same selection excluded in one batch: the decisions file names exactly those rows
    page.get_by_text(re.compile(r"Decide on the [\d,]+ selected image")).click()
    name = page.locator(".st-key-latent_decide_file input")
    name.fill("latent_fixes.csv")
    name.press("Enter")
    button = page.locator(".st-key-latent_decide_write button")
    expect(button).to_contain_text("latent_fixes.csv")
    j.settle(page)  # the name's rerun over: a click during it was lost once under load
    button.click()
    expect(page.get_by_text(f"{n} decision(s) written to latent_fixes.csv")).to_be_visible(timeout=60_000)
    saved = decided.read(decided.decisions_dir(app_workspace) / "latent_fixes.csv")[0]
    assert [d.index for d in saved] == plotted.tolist()
    assert {d.action for d in saved} == {decided.Action.EXCLUDE}

    expect(page.locator(srv.EXCEPTION)).to_have_count(0)
    shot = srv.full_page_screenshot(page, srv.ARTIFACTS / "latent_page.png")
    print(f"screenshot: {shot}")
