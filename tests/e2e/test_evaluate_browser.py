"""The Evaluate page in a real browser: the numbers it shows are core's, and a chosen cell shows
that cell's images."""
from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from core.evaluation.classification import classification_metrics, confusion, predict
from core.runs.store import open_store
from tests.e2e import server as srv
from tests.e2e.journey import settle

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


def test_two_class_threshold_panel_answers_keys_with_core_counts(page, app_server, app_workspace):
    """A two-class run trained into the app's workspace: the panel on P(8) steps where a count
    changes and shows core's counts; Enter commits without a traceback."""
    from core.evaluation.sweep import ThresholdSweep
    from core.settings import Settings
    from core.training.config import TrainConfig
    from core.training.runner import train_run

    settings = Settings(workspace=app_workspace, data_roots=(app_workspace,))
    config = TrainConfig(dataset="digits?classes=3,8", model="mlp", model_params={"hidden": [16]},
                         loss="bce", epochs=2, schedule="none", lr=1e-2)
    run = open_store(settings).create(config)
    assert train_run(run, config)[0] == "done"
    p = predict(run, "test", settings)
    sweep = ThresholdSweep(p.proba[:, 1], p.y_true == 1)
    page.goto(app_server + f"/evaluate?run={run.id}")
    track = page.locator(".tp-track")
    expect(track).to_be_visible(timeout=90_000)
    expect(page.locator(".tp-positive")).to_have_text("8")

    def shown():
        root = page.locator(".tp")
        cells = [int(page.locator(f"[data-cell={c}] b").inner_text().replace(",", ""))
                 for c in ("tp", "fp", "tn", "fn")]
        return float(root.get_attribute("data-threshold")), cells

    t, cells = shown()
    assert t == 0.5
    distinct = np.unique(sweep.sorted_scores_)
    for key in ("ArrowLeft", "ArrowLeft", "PageDown", "ArrowRight"):
        track.press(key)
        t_new, cells = shown()
        c = sweep.counts(t_new)
        assert cells == [c.tp, c.fp, c.tn, c.fn] and t_new != t
        assert t_new in distinct or t_new in (0.0, 1.0)
        t = t_new
    track.press("Enter")
    # the committed value reaches the server, whose rerun writes it into the address bar
    page.wait_for_function("t => new URL(location.href).searchParams.get('threshold') !== null && "
                           "Math.abs(parseFloat(new URL(location.href).searchParams.get('threshold')) - t) "
                           "< 1e-9", arg=t, timeout=60_000)
    settle(page)
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)
    assert shown()[0] == t  # the rerun after the commit kept the value
