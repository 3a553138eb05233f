"""Presentation mode at 1280x720 in a real browser: each page's key view on the first screen, its
text at least 18 px, no plotly mode bar; a screenshot of each first screen under tests/artifacts."""
from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from dashboard.figures import PRESENT_FONT
from tests.e2e import server as srv
from tests.e2e.journey import settle
from tests.polling import wait_for

pytestmark = pytest.mark.browser
SCREEN = {"width": 1280, "height": 720}
# The bounding box of a selector's first match and the smallest computed font size of any text
# inside it (shadow roots included: the threshold panel lives in one).
VIEW_JS = """(sel) => {
    const find = (root) => root.querySelector(sel) || Array.from(root.querySelectorAll('*'))
        .filter(e => e.shadowRoot).map(e => find(e.shadowRoot)).find(Boolean) || null;
    const el = find(document);
    if (!el) return null;
    const box = el.getBoundingClientRect();
    let smallest = Infinity;
    const walk = (node) => {
        for (const child of node.children || []) {
            const own = Array.from(child.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
            const style = getComputedStyle(child);
            if (own && style.display !== 'none' && style.visibility !== 'hidden')
                smallest = Math.min(smallest, parseFloat(style.fontSize));
            walk(child);
        }
    };
    walk(el);
    return {top: box.top, bottom: box.bottom, left: box.left, right: box.right, smallest};
}"""


def _view(page, selector: str) -> dict:
    view = page.evaluate(VIEW_JS, selector)
    assert view is not None, f"{selector} not on the page"
    return view


def _above_the_fold(view: dict, what: str) -> None:
    assert 0 <= view["top"] and view["bottom"] <= SCREEN["height"] + 1, f"{what} not on the first screen: {view}"


def _open(page, base_url: str, path: str) -> None:
    page.set_viewport_size(SCREEN)
    page.goto(base_url + path)
    expect(page.get_by_role("switch", name="Presentation mode")).to_be_checked(timeout=90_000)


def test_anomaly_threshold_panel_on_the_first_screen(page, app_server):
    _open(page, app_server, "/anomaly?run=digits-anomaly-ae&present=1")
    expect(page.locator("[data-cell=tp] b")).to_have_text(re.compile(r"\d"), timeout=90_000)
    settle(page)
    srv.full_page_screenshot(page, srv.ARTIFACTS / "present-anomaly.png")
    page.screenshot(path=str(srv.ARTIFACTS / "present-anomaly-first-screen.png"))
    panel = _view(page, ".tp")
    _above_the_fold(panel, "threshold panel")
    assert panel["smallest"] >= PRESENT_FONT, panel
    buttons = page.get_by_role("button", name=re.compile("max F1|Youden", re.I))
    assert buttons.first.bounding_box()["y"] > panel["bottom"]  # the strategies below the panel
    assert "present=1" in page.url


def test_evaluate_matrix_and_its_images_on_the_first_screen(page, app_server):
    _open(page, app_server, "/evaluate?run=digits-classifier&present=1")
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    expect(chart).to_be_visible(timeout=90_000)
    page.wait_for_selector(f".st-key-cell_gallery {srv.IMAGES}", state="visible")
    settle(page)
    page.screenshot(path=str(srv.ARTIFACTS / "present-evaluate-first-screen.png"))
    matrix = _view(page, '[data-testid="stPlotlyChart"] .main-svg')
    _above_the_fold(matrix, "confusion matrix")
    assert matrix["smallest"] >= PRESENT_FONT, matrix
    image = page.locator(f".st-key-cell_gallery {srv.IMAGES}").first.bounding_box()
    assert image["y"] < SCREEN["height"] and image["x"] > matrix["left"], image  # beside it
    expect(page.locator(".modebar-container .modebar")).to_have_count(0, timeout=10_000)


def test_train_first_point_beside_the_form(page, app_server, app_workspace):
    _open(page, app_server, "/train?present=1")
    train = page.get_by_role("button", name="Train", exact=True)
    expect(train).to_be_visible(timeout=90_000)
    assert train.bounding_box()["y"] + train.bounding_box()["height"] <= SCREEN["height"]
    clicked = time.monotonic()
    train.click()
    curves = page.locator('[class*="st-key-curves_"] .js-plotly-plot').first
    expect(curves).to_be_visible(timeout=120_000)
    first_point_s = time.monotonic() - clicked
    settle(page)
    page.screenshot(path=str(srv.ARTIFACTS / "present-train-first-screen.png"))
    view = _view(page, '[class*="st-key-curves_"] .main-svg')
    assert view["top"] < SCREEN["height"] and view["left"] > SCREEN["width"] / 3, view  # beside
    assert view["smallest"] >= PRESENT_FONT, view
    print(f"click to first point: {first_point_s:.1f} s")
    run_id = re.search(r"st-key-curves_(\S+)", page.locator('[class*="st-key-curves_"]').first
                       .get_attribute("class")).group(1)
    # Leave no training behind: stop it, unless a loaded machine let it finish (no Stop button).
    status = app_workspace / "runs" / run_id / "status.json"

    def state() -> str | None:
        return json.loads(status.read_text()).get("state") if status.exists() else None

    stop = page.get_by_role("button", name="Stop", exact=True).first
    wait_for(lambda: stop.is_visible() or state() in ("stopped", "done"), timeout=120)
    if stop.is_visible():
        try:
            stop.click(timeout=30_000)
        except PlaywrightTimeoutError:  # the run ended between the look and the click
            pass
    wait_for(lambda: state() in ("stopped", "done"), timeout=180)
