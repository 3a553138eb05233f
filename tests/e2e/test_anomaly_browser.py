"""The Anomaly page in a real browser: the threshold slider, by keyboard and by mouse, moves the
confusion matrix and the rates."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e import server as srv

pytestmark = pytest.mark.browser
MAIN = '[data-testid="stMain"]'


def _tpr(page):
    return page.locator(srv.METRIC, has_text="TPR (recall)").locator(
        '[data-testid="stMetricValue"]')


def _matrix_text(page) -> str:
    """The TN/FP/FN/TP cells of the threshold panel's heatmap (the page's first chart)."""
    texts = page.locator(f"{MAIN} {srv.PLOT}").first.locator("svg text").all_text_contents()
    return " ".join(t for t in texts if t[:2] in ("TN", "FP", "FN", "TP"))


def _settled(page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]') && "
                           "!document.querySelector('[data-testid=\"stStatusWidget\"] "
                           "[data-testid=\"stStatusWidgetRunningIcon\"]')")


def _numbers(page) -> tuple[str, str]:
    return _tpr(page).inner_text(), _matrix_text(page)


def _wait_changed(page, before: tuple[str, str], timeout_ms: int = 30_000,
                  quiet_ms: int = 1_500) -> tuple[str, str]:
    """Wait until the numbers differ from before and then stay put for quiet_ms (a burst of key
    presses reruns the panel several times; the last rerun is the one to read)."""
    waited, last, still = 0, None, 0
    while waited < timeout_ms:
        _settled(page)
        now = _numbers(page)
        still = still + 100 if now == last else 0
        last = now
        if now != before and still >= quiet_ms:
            return now
        page.wait_for_timeout(100)
        waited += 100
    raise AssertionError(f"the numbers did not change from {before} and settle (last {last})")


def _open(page, base_url: str) -> None:
    page.goto(base_url + "/anomaly?run=digits-anomaly-ae")
    expect(_tpr(page)).to_be_visible(timeout=90_000)
    page.wait_for_selector(f"{MAIN} {srv.PLOT}", state="visible")
    page.wait_for_selector(f"{MAIN} {srv.IMAGES}", state="visible")
    _settled(page)
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)


def test_dragging_the_threshold_moves_the_matrix(page, app_server):
    _open(page, app_server)
    before = _numbers(page)
    assert "TP" in before[1] and "FN" in before[1], before

    # Streamlit's slider is react-aria's: a visually hidden <input type="range"> (ARIA role
    # slider) inside the thumb <div> that the mouse drags.
    slider = page.locator(MAIN).locator('[data-testid="stSlider"]').get_by_role("slider").first
    slider.focus()
    for _ in range(40):
        slider.press("ArrowRight")
    after_keys = _wait_changed(page, before)
    assert float(after_keys[0]) <= float(before[0])  # a higher threshold catches fewer anomalies
    assert page.url.count("threshold=") == 1

    thumb = slider.locator("xpath=../..")  # input -> visually-hidden wrapper -> thumb
    box = thumb.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 60, y, steps=8)
    page.mouse.move(x - 120, y, steps=8)
    page.mouse.up()
    after_drag = _wait_changed(page, after_keys)
    assert float(after_drag[0]) >= float(after_keys[0])  # dragged left: lower, catches more
    print(f"TPR and matrix: {before} -> keys {after_keys} -> drag {after_drag}")
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)
    page.wait_for_selector(f"{MAIN} {srv.IMAGES}", state="visible")
    shot = srv.full_page_screenshot(page, srv.ARTIFACTS / "anomaly_page.png")
    print(f"screenshot: {shot}")
