"""Journey: set costs on the Anomaly page, drag (the expected cost and the intervals follow before
the release), save, reload (the saved record is the default), then predict applies that record."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.anomaly.record import ThresholdRecord
from core.predict.detector import RunDetector
from core.predict.thresholds import resolve_threshold
from core.runs.store import open_store
from core.settings import Settings
from tests.e2e import server as srv
from tests.e2e.journey import settle

pytestmark = pytest.mark.browser
RUN = "digits-anomaly-ae"
READ = """(root) => ({t: Number(root.dataset.threshold),
    cost: root.querySelector('.tp-cost-now').textContent,
    tpr: root.querySelector('[data-ci=tpr]').textContent,
    marker: root.querySelector('.tp-cost .tp-marker')?.getAttribute('cx')})"""


def _open(page, url: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(url)
    expect(page.locator("[data-cell=tp] b")).to_have_text(re.compile(r"\d"), timeout=90_000)
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)


def test_costs_drag_save_reload_and_predict(page, app_server, app_workspace) -> None:
    settings = Settings(workspace=app_workspace, data_roots=(app_workspace,))
    record_path = settings.cache_dir / "shipped" / RUN / "threshold-mse.json"
    try:
        _open(page, app_server + f"/anomaly?run={RUN}")
        for label, value in (("Cost of a false alarm", "2"), ("Cost of a miss", "7")):
            box = page.get_by_role("spinbutton", name=label)
            box.fill(value)
            box.press("Enter")
            settle(page)  # as a person reads the panel before the next cost
        panel = page.locator(".tp")
        expect(panel.locator(".tp-cost-now")).to_contain_text("false alarm 2, miss 7", timeout=60_000)
        panel.scroll_into_view_if_needed()
        track = panel.locator(".tp-track").bounding_box()
        y = track["y"] + track["height"] / 2
        page.mouse.move(track["x"] + 0.35 * track["width"], y)
        page.mouse.down()
        seen = []
        for f in (0.45, 0.6):
            page.mouse.move(track["x"] + f * track["width"], y)
            seen.append(panel.evaluate(READ))  # before the release: the browser alone
        page.mouse.up()
        assert seen[0]["t"] != seen[1]["t"] and seen[0]["cost"] != seen[1]["cost"]
        assert seen[0]["marker"] != seen[1]["marker"] and seen[0]["tpr"].startswith("[")
        dragged = seen[1]["t"]
        page.wait_for_function("(t) => Number(new URLSearchParams(location.search).get('threshold')) === t",
                               arg=dragged, timeout=60_000)
        page.get_by_role("button", name="Save threshold with the run").click()
        expect(page.get_by_text(re.compile(r"Saved .*manual"))).to_be_visible(timeout=60_000)
        record = ThresholdRecord.load(record_path)
        assert record.value == dragged and (record.strategy, record.split, record.by) == ("manual", "test", "page")
        assert sum(record.counts.values()) == 359  # the test split it was tuned on, as shown

        _open(page, app_server + f"/anomaly?run={RUN}")  # a new session: the saved record
        assert panel.evaluate(READ)["t"] == dragged

        choice = resolve_threshold(RunDetector(open_store(settings).get(RUN), settings), "mse")
        assert choice.value == dragged and choice.saved == record
    finally:
        record_path.unlink(missing_ok=True)  # the shared app's later tests start from weights/
