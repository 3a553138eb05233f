"""The Train page in a real browser: a run started from the form draws live curves and stops.

The MLP on digits is fast (about 20 ms an epoch here), so 30 epochs finish before a second
look at the chart; the run asks for the form's maximum of 1000 epochs instead and is stopped
by the test long before that.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e import journey as j
from tests.e2e import server as srv

pytestmark = pytest.mark.browser
EPOCHS = 1000
RAW_TRACE = "train (each log)"
RUN_ID = re.compile(r"st-key-curves_(\S+)")
CAP = 1400  # dashboard.figures downsamples a curve to about 1500 points

# Point count and last step of one trace of the run's chart; null while the chart is not drawn.
# _fullData holds the decoded arrays (data[i].x may still be a {dtype, bdata} typed-array spec).
TRACE_JS = """([runId, name]) => {
    const g = document.querySelector(`.st-key-curves_${runId} .js-plotly-plot`);
    if (!g || !g._fullData) return null;
    const t = g._fullData.find(t => t.name === name);
    if (!t || !t.x) return {n: 0, last: null};
    return {n: t.x.length, last: t.x.length ? Number(t.x[t.x.length - 1]) : null};
}"""
CHART_IDS_JS = """() => Array.from(document.querySelectorAll('[class*="st-key-curves_"]'))
    .map(e => (e.className.match(/st-key-curves_(\\S+)/) || [])[1]).filter(Boolean)"""


def _choose_model(page, label: str) -> None:
    srv.choose(page, "Model", label)
    expect(page.get_by_role("combobox", name="Model", exact=True)).to_have_value(label)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")
    # The model's own fields replace the old form in the rerun the choice started: until it has
    # finished, the old form's inputs (an "Epochs" among them) can stand beside the new ones.
    j.settle(page)
    expect(page.get_by_role("spinbutton", name="Epochs")).to_have_count(1, timeout=60_000)


def _trace(page, run_id: str) -> dict | None:
    return page.evaluate(TRACE_JS, [run_id, RAW_TRACE])


def _wait_trace(page, run_id: str, ok, what: str, timeout_s: float = 60.0) -> dict:
    """Poll the chart (every 0.2 s) until ok(trace) holds; fail with the last value seen."""
    deadline = time.monotonic() + timeout_s
    trace = None
    while time.monotonic() < deadline:
        trace = _trace(page, run_id)
        if trace is not None and ok(trace):
            return trace
        page.wait_for_timeout(200)
    pytest.fail(f"{what}: not seen within {timeout_s:.0f} s; last trace {trace}")


def _run_folder(page, run_id: str) -> Path | None:
    """The run folder, from the page's "same run from a terminal" command (for cleanup)."""
    code = page.locator('[data-testid="stCode"]', has_text=f"{run_id}")
    if code.count() == 0:
        return None
    match = re.search(r"--run\s+(\S+)", code.first.text_content() or "")
    return Path(match.group(1)) if match else None


def test_live_curves_grow_then_stop(page, app_server):
    page.goto(app_server + "/train")
    train = page.get_by_role("button", name="Train", exact=True)
    # a fresh server's first Train page imports torch and checks the default model: 6-9 s on a
    # loaded 2-core machine, more than expect's 5 s default
    expect(train).to_be_visible(timeout=60_000)
    _choose_model(page, "Classifier · MLP (custom)")
    page.get_by_role("spinbutton", name="Epochs").fill(str(EPOCHS))
    before = set(page.evaluate(CHART_IDS_JS))
    train.click()

    page.wait_for_function(f"(before) => ({CHART_IDS_JS})().some(id => !before.includes(id))",
                           arg=sorted(before), timeout=60_000)
    run_id = next(i for i in page.evaluate(CHART_IDS_JS) if i not in before)
    folder = _run_folder(page, run_id)
    progress = page.locator('[data-testid="stProgress"]', has_text=run_id)
    try:
        first = _wait_trace(page, run_id, lambda t: t["n"] >= 1, "a first logged training loss")
        expect(progress).to_contain_text(f"{run_id} · running")
        expect(progress).to_contain_text(re.compile(rf"epoch \d+/{EPOCHS} "))
        if folder is not None:  # the form's choices reached the run
            config = json.loads((folder / "config.json").read_text())
            assert (config["model"], config["epochs"]) == ("mlp", EPOCHS), config
        t_first = time.monotonic()

        def grew(t: dict) -> bool:
            later = t["last"] is not None and t["last"] > first["last"]
            more = t["n"] > first["n"] or first["n"] >= CAP  # past the cap the count stays put
            return time.monotonic() - t_first >= 2.0 and later and more

        second = _wait_trace(page, run_id, grew, f"more points than {first}", timeout_s=30)
        expect(progress).to_contain_text(f"{run_id} · running")
        assert second["n"] > first["n"] or first["n"] >= CAP, (first, second)
        print(f"'{RAW_TRACE}' points: {first['n']} (step {first['last']:.0f}) -> "
              f"{second['n']} (step {second['last']:.0f})")

        page.locator(f".st-key-stop_{run_id} button").click()
        expect(progress).to_contain_text(f"{run_id} · stopped", timeout=30_000)
        expect(page.get_by_text("Stopped on request")).to_be_visible()
        expect(page.locator(f".st-key-stop_{run_id}")).to_have_count(0)
        expect(page.locator(srv.EXCEPTION)).to_have_count(0)
        # The points logged up to the stop are still drawn.
        assert (_trace(page, run_id) or {"n": 0})["n"] >= second["n"] or second["n"] >= CAP
        shot = srv.full_page_screenshot(page, srv.ARTIFACTS / "train_page.png")
        print(f"screenshot: {shot}")
    finally:
        # Never leave a 1000-epoch run behind (e.g. when an assertion above failed).
        if folder is not None and folder.is_dir():
            (folder / "stop").touch()
