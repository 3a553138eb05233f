"""The Anomaly page's threshold panel in a real browser: a mouse drag moves the matrix before the
button is released, with core's counts at every position; keys step where a count changes; a typed
value applies; a touch drag works; one commit updates the URL and the gallery."""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from core.anomaly.scores import compute_scores
from core.evaluation.sweep import ThresholdSweep
from core.runs.store import open_store
from tests.e2e import server as srv

pytestmark = pytest.mark.browser
RUN = "digits-anomaly-ae"
PANEL = ".tp"  # Playwright's CSS reaches into the component's open shadow root
SMALL_SCREEN = {"width": 1280, "height": 720}
SETTLED = """() => !document.querySelector('[data-stale="true"]') && !document.querySelector(
    '[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]')"""


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> ThresholdSweep:
    """Core's sweep of the page's default view: mse on every test image of the shipped run."""
    from core.settings import Settings

    workspace = tmp_path_factory.mktemp("core-side")
    settings = Settings(workspace=workspace, data_roots=(workspace,))
    a = compute_scores(open_store(settings).get(RUN), settings)
    test = a.part("test")
    return ThresholdSweep(a.scores["mse"][test], a.is_anomaly[test])


def _open(page, base_url: str) -> None:
    page.set_viewport_size(SMALL_SCREEN)
    page.goto(base_url + f"/anomaly?run={RUN}")
    expect(page.locator("[data-cell=tp] b")).to_have_text(re.compile(r"\d"), timeout=90_000)
    page.wait_for_selector(f'[data-testid="stMain"] {srv.IMAGES}', state="visible")
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)
    page.wait_for_function(SETTLED)  # the first run is over: nothing will redraw the panel
    page.locator(PANEL).scroll_into_view_if_needed()


def _shown(page) -> tuple[float, tuple[int, int, int, int]]:
    """The panel's threshold (its exact value) and its TP, FP, TN, FN cells."""
    state = page.locator(PANEL).evaluate("""(root) => [root.dataset.threshold,
        ...['tp', 'fp', 'tn', 'fn'].map((c) => root.querySelector(`[data-cell=${c}] b`).textContent)]""")
    return float(state[0]), tuple(int(v.replace(",", "")) for v in state[1:])


def _core(sweep: ThresholdSweep, t: float) -> tuple[int, int, int, int]:
    c = sweep.counts(t)
    return c.tp, c.fp, c.tn, c.fn


def _url_threshold(page) -> float | None:
    found = re.search(r"[?&]threshold=([^&]+)", page.url)
    return float(found.group(1)) if found else None


def _wait_committed(page, sweep: ThresholdSweep, t: float) -> None:
    """The URL holds t and the gallery's heading counts the false alarms and misses at t."""
    page.wait_for_function("(t) => new URLSearchParams(location.search).get('threshold') !== null"
                           " && Number(new URLSearchParams(location.search).get('threshold')) === t",
                           arg=t, timeout=60_000)
    c = sweep.counts(t)
    heading = page.get_by_text(f"Wrong at this threshold ({c.fp:,} false alarms, {c.fn:,} missed")
    expect(heading).to_be_visible(timeout=60_000)


def test_mouse_drag_moves_the_matrix_before_release(page, app_server, sweep) -> None:
    _open(page, app_server)
    start, before = _shown(page)
    assert before == _core(sweep, start)
    url_before = _url_threshold(page)
    box = page.locator(".tp-thumb").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    seen = []
    for dx in (-30, -70, -110, 40, 120, 200):
        page.mouse.move(x + dx, y, steps=3)
        t, cells = _shown(page)
        assert cells == _core(sweep, t), f"at {t}: shown {cells}, core {_core(sweep, t)}"
        seen.append((t, cells))
    assert len({cells for _, cells in seen} - {before}) >= 4  # the matrix moved with the mouse
    assert seen[2][0] < start < seen[-1][0]
    assert _url_threshold(page) == url_before  # nothing went to the server during the drag
    page.mouse.up()
    _wait_committed(page, sweep, seen[-1][0])
    assert _shown(page) == seen[-1]  # the rerun kept what the drag showed

    # slider, matrix, rates and histogram on one 1280x720 screen
    for part in (".tp-track", ".tp-matrix", ".tp-rates", ".tp-hist"):
        b = page.locator(part).bounding_box()
        assert 0 <= b["y"] and b["y"] + b["height"] <= SMALL_SCREEN["height"], part
        assert b["x"] + b["width"] <= SMALL_SCREEN["width"], part
    sizes = page.locator(PANEL).evaluate("""(root) => [...root.querySelectorAll('.tp-tick-label')]
        .map((t) => parseFloat(getComputedStyle(t).fontSize))""")
    assert sizes and min(sizes) >= 14
    srv.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(srv.ARTIFACTS / "threshold_panel_1280x720.png"))
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)


def test_keys_step_where_a_count_changes_and_typing_applies(page, app_server, sweep) -> None:
    _open(page, app_server)
    distinct = np.unique(sweep.sorted_scores_)
    track = page.locator(".tp-track")
    track.focus()
    t0, cells0 = _shown(page)
    k = int(np.searchsorted(distinct, t0))
    track.press("ArrowRight")
    t1, cells1 = _shown(page)
    assert t1 == distinct[k + 1] and cells1 == _core(sweep, t1) and cells1 != cells0
    track.press("ArrowLeft")
    track.press("ArrowLeft")
    t2, cells2 = _shown(page)
    assert t2 == distinct[k - 1] and cells2 == _core(sweep, t2)
    track.press("PageUp")
    t3, cells3 = _shown(page)
    n_neg = sweep.n_neg_
    assert cells3[2] - cells2[2] >= math.ceil(0.05 * n_neg)  # 5% of normal scores, at least
    assert sweep.counts(float(distinct[np.searchsorted(distinct, t3) - 1])).tn - cells2[2] \
        < math.ceil(0.05 * n_neg)  # and no further than the first threshold that does it
    _wait_committed(page, sweep, t3)  # one commit after the burst of keys

    box = page.locator(".tp-input")
    box.fill("0.02")
    box.press("Enter")
    t4, cells4 = _shown(page)
    assert t4 == 0.02 and cells4 == _core(sweep, 0.02)
    _wait_committed(page, sweep, 0.02)
    box.fill("two")
    box.press("Enter")
    expect(page.locator(".tp-error")).to_contain_text('"two" is not a number')
    assert _shown(page)[0] == 0.02

    # the decisions CSV is built on click, at the committed threshold
    with page.expect_download() as download:
        page.get_by_role("button", name="Scores and decisions (CSV)").click()
    frame = pd.read_csv(download.value.path())
    test = frame[frame["split"] == "test"]
    assert (test["mse"] >= 0.02).sum() == (test["decision"] == "anomaly").sum()
    assert (test["decision"] == "anomaly").sum() == cells4[0] + cells4[1]  # TP + FP
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)


def test_touch_drag_moves_and_commits(browser, app_server, sweep) -> None:
    context = browser.new_context(viewport=SMALL_SCREEN, has_touch=True)
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        _open(page, app_server)
        t0, _ = _shown(page)
        box = page.locator(".tp-thumb").bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        cdp = context.new_cdp_session(page)
        touch = lambda kind, px: cdp.send(  # noqa: E731
            "Input.dispatchTouchEvent", {"type": kind, "touchPoints": [] if kind == "touchEnd"
                                         else [{"x": px, "y": y}]})
        touch("touchStart", x)
        for dx in (15, 40, 70, 100):
            touch("touchMove", x + dx)
        t, cells = _shown(page)  # moved before the finger lifts, with core's counts
        assert t > t0 and cells == _core(sweep, t), (t0, t, cells, _core(sweep, t))
        touch("touchEnd", x + 100)
        # Chrome delivers touch moves with the next frame, so the last one may land after the
        # read above: what is committed is where the finger lifted, at or past t
        page.wait_for_function("(t0) => Number(new URLSearchParams(location.search)"
                               ".get('threshold')) > t0", arg=t0, timeout=60_000)
        lifted, cells = _shown(page)
        assert lifted >= t and cells == _core(sweep, lifted)
        _wait_committed(page, sweep, lifted)
    finally:
        context.close()
