"""Latent in a real browser: one selected point shows its nearest neighbours in code space, the very
rows scikit-learn's NearestNeighbors finds on the same codes, and its nearest other-class image."""
from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import expect
from sklearn.neighbors import NearestNeighbors

from core.data.dataset import load_dataset
from core.latent.features import extract
from core.runs.store import open_store
from core.settings import Settings
from core.training.config import run_config
from dashboard.sections.latent_map import NEIGHBOURS
from tests.e2e import server as srv
from tests.e2e.journey import settle

pytestmark = pytest.mark.browser
MAP = ".st-key-latent_map"
RUN = "digits-vae"
NEAREST = re.compile(r"Nearest to #(\d+): ([#\d, ]+); of another class: #(\d+)")
# The page position of the most isolated plotted point (farthest from its nearest other point on
# screen), so a small box drawn round it selects it alone.
POINT_JS = """(sel) => {
    const g = document.querySelector(`${sel} .js-plotly-plot`);
    const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis, r = g.getBoundingClientRect();
    const pts = [];
    for (const t of g._fullData) {
        if (!t.customdata) continue;
        for (let i = 0; i < t.x.length; i++)
            pts.push([r.left + xa._offset + xa.l2p(t.x[i]), r.top + ya._offset + ya.l2p(t.y[i])]);
    }
    let best = null, gap = -1;
    for (const [x, y] of pts) {
        if (x < 5 || y < 5 || x > innerWidth - 5 || y > innerHeight - 5) continue;  // on screen
        let near = Infinity;
        for (const [u, v] of pts) { const d = (x - u) ** 2 + (y - v) ** 2; if (d > 0 && d < near) near = d; }
        if (near > gap) { gap = near; best = {x, y, gap: Math.sqrt(near)}; }
    }
    return best;
}"""


def check_neighbours(page, app_workspace) -> None:
    """The neighbours the page names for its one selected point are scikit-learn's."""
    text = page.get_by_text(NEAREST)
    expect(text).to_be_visible(timeout=60_000)
    found = NEAREST.search(text.inner_text())
    row, rows, other = int(found.group(1)), [int(r) for r in re.findall(r"\d+", found.group(2))], \
        int(found.group(3))
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)

    settings = Settings(app_workspace, ())
    run = open_store(settings).get(RUN)
    ds = load_dataset(run_config(run).dataset, settings)
    codes = extract(run, settings, ds).codes.astype(np.float64)
    _, idx = NearestNeighbors(n_neighbors=NEIGHBOURS + 1).fit(codes).kneighbors(codes[row:row + 1])
    assert rows == [i for i in idx[0].tolist() if i != row][:NEIGHBOURS]
    foreign = np.flatnonzero(ds.labels != ds.labels[row])
    _, near = NearestNeighbors(n_neighbors=1).fit(codes[foreign]).kneighbors(codes[row:row + 1])
    assert other == int(foreign[near[0, 0]])


def test_a_click_in_box_select_mode_shows_neighbours_equal_sklearn(page, app_server, app_workspace):
    """The map opens in box-select mode; one click on a point selects it alone, as in pan mode."""
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(app_server + f"/latent?run={RUN}")
    page.wait_for_selector(f"{MAP} .js-plotly-plot", state="visible", timeout=120_000)
    page.wait_for_function(f"() => document.querySelector('{MAP} .nsewdrag')", timeout=60_000)
    settle(page)
    page.locator(MAP).scroll_into_view_if_needed()
    graph = f"document.querySelector('{MAP} .js-plotly-plot')"
    assert page.evaluate(f"() => {graph}._fullLayout.dragmode") == "select"
    point = page.evaluate(POINT_JS, MAP)
    page.mouse.move(point["x"], point["y"])
    page.wait_for_function(f"() => ({graph}._hoverdata || []).length > 0")  # plotly found it
    page.mouse.down()
    page.mouse.up()
    check_neighbours(page, app_workspace)
    srv.full_page_screenshot(page, srv.ARTIFACTS / "latent-click-neighbours.png")


def test_one_point_neighbours_equal_sklearn(page, app_server, app_workspace):
    page.goto(app_server + f"/latent?run={RUN}")
    page.wait_for_selector(f"{MAP} .js-plotly-plot", state="visible", timeout=120_000)
    page.wait_for_function(f"() => document.querySelector('{MAP} .nsewdrag')", timeout=60_000)
    settle(page)
    point = page.evaluate(POINT_JS, MAP)
    half = max(2.0, min(8.0, point["gap"] / 2 - 1))  # a box round that point alone
    page.mouse.move(point["x"] - half, point["y"] - half)
    page.mouse.down()
    page.mouse.move(point["x"] + half, point["y"] + half, steps=6)
    page.mouse.up()
    check_neighbours(page, app_workspace)
    srv.full_page_screenshot(page, srv.ARTIFACTS / "latent-neighbours.png")
