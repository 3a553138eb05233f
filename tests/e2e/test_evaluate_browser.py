"""The Evaluate page in a real browser: the numbers it shows are core's, and a chosen cell shows
that cell's images."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.evaluation.classification import classification_metrics, confusion, predict
from core.runs.store import open_store
from tests.e2e import server as srv

pytestmark = pytest.mark.browser


def test_evaluate_page_shows_core_numbers_and_a_chosen_cell(page, app_server, settings):
    run = open_store(settings).get("digits-classifier")
    p = predict(run, "test", settings)
    metrics, matrix = classification_metrics(p), confusion(p)
    page.goto(app_server + "/evaluate?run=digits-classifier")
    main = page.locator('[data-testid="stMain"]')
    shown = main.locator(srv.METRIC, has_text="balanced accuracy")
    expect(shown).to_be_visible(timeout=60_000)
    assert f"{metrics['balanced_accuracy']:.4f}" in shown.inner_text()
    expect(main.locator(srv.PLOT).first).to_be_visible()
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")
    srv.choose(page, "True class", "3")
    srv.choose(page, "Predicted as", "3")
    line = main.get_by_text(re.compile(r"images of 3 predicted as 3"))
    expect(line).to_be_visible(timeout=30_000)
    count = int(re.match(r"([\d,]+)", line.inner_text()).group(1).replace(",", ""))
    assert count == matrix[3, 3]  # the cell's own count, from core's confusion matrix
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)
    srv.full_page_screenshot(page, srv.ARTIFACTS / "evaluate_page.png")
