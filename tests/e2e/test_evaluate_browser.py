"""The Evaluate page in a real browser: metrics, the confusion matrix, and a chosen cell's images."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import server as srv

pytestmark = pytest.mark.browser


def test_evaluate_page_shows_a_chosen_cell(page, app_server):
    page.goto(app_server + "/evaluate?run=digits-classifier")
    main = page.locator('[data-testid="stMain"]')
    expect(main.locator(srv.METRIC, has_text="balanced accuracy")).to_be_visible(timeout=60_000)
    expect(main.locator(srv.PLOT).first).to_be_visible()
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")
    srv.choose(page, "True class", "3")
    srv.choose(page, "Predicted as", "3")
    line = main.get_by_text(re.compile(r"images of 3 predicted as 3"))
    expect(line).to_be_visible(timeout=30_000)
    count = int(re.match(r"([\d,]+)", line.inner_text()).group(1).replace(",", ""))
    assert count > 30
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)
    srv.full_page_screenshot(page, srv.ARTIFACTS / "evaluate_page.png")
