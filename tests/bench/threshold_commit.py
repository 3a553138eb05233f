"""threshold_commit: the one server round trip the threshold panel leaves, on the Anomaly page.

Shipped digits-anomaly-ae at 1280x720: two arrow keys (answered in the page), then Enter commits;
from the Enter keydown until the server's first and last websocket messages, the gallery heading
counting the new false alarms and misses, and its images loaded. Goal: 1.5x the floor
(page_timing: a trivial app's round trip, measured in the same run).
"""
from __future__ import annotations

import time
from pathlib import Path

from tests.bench.common import Figure, tmp_dir
from tests.bench.page_timing import (
    IMAGES_DONE,
    LOAD_TIMEOUT_MS,
    NOT_STALE,
    app_page,
    floor_round_trips,
    measure,
    say,
    settle,
)
from tests.bench.threshold_drag import PANEL_READY_JS, websocket_bytes
from tests.e2e import server as srv

COMMITS = 10  # per repeat

# 1: the gallery heading counts the panel's FP and FN, nothing stale; 2: and every image in the
# main area has loaded, the set of image sources having changed.
COMMIT_JS = f"""([fp, fn, before]) => {{
    if (!{NOT_STALE}) return 0;
    const heading = Array.from(document.querySelectorAll('[data-testid="stMarkdown"]'))
        .find(e => e.innerText.includes('Wrong at this threshold'));
    if (!heading || !heading.innerText.includes(`(${{fp}} false alarms, ${{fn}} missed`)) return 0;
    const imgs = Array.from(document.querySelectorAll('[data-testid="stMain"] img'));
    const now = imgs.map(i => i.src).join('|');
    return now !== before && ({IMAGES_DONE})(imgs) ? 2 : 1;
}}"""

CELLS_JS = """() => {
    const root = document.querySelector('[data-testid="stBidiComponentIsolated"]').shadowRoot;
    return ['fp', 'fn'].map(c => root.querySelector(`[data-cell=${c}] b`).textContent);
}"""

SOURCES_JS = """() => Array.from(document.querySelectorAll('[data-testid="stMain"] img'))
    .map(i => i.src).join('|')"""

# Where a commit's time goes: when each websocket message from the server arrived.
WEBSOCKET_TIMES_JS = """() => {
    const Original = window.WebSocket;
    window.__wsTimes = [];
    window.WebSocket = class extends Original {
        constructor(...args) {
            super(...args);
            this.addEventListener('message', () => window.__wsTimes.push(performance.now()));
        }
    };
}"""


def _commit_repeat(browser, tmp: Path, figs: dict) -> None:
    bench = "threshold_commit"
    with app_page(browser, tmp, "/anomaly?run=digits-anomaly-ae",
                  viewport={"width": 1280, "height": 720}) as (page, _, start):
        page.add_init_script(f"({WEBSOCKET_TIMES_JS})()")
        page.wait_for_function(f"""() => ({PANEL_READY_JS})() && ({IMAGES_DONE})(Array.from(
            document.querySelectorAll('[data-testid="stMain"] img')))""", timeout=LOAD_TIMEOUT_MS)
        settle(page)
        say(bench, f"page shown after {time.perf_counter() - start:.1f} s")
        sizes = websocket_bytes(page)
        page.reload()
        page.wait_for_function(PANEL_READY_JS, timeout=LOAD_TIMEOUT_MS)
        settle(page)
        track = page.locator(".tp-track")
        for _ in range(COMMITS):
            track.focus()
            track.press("ArrowRight")
            track.press("ArrowRight")
            fp, fn = page.evaluate(CELLS_JS)
            before, received = page.evaluate(SOURCES_JS), sum(sizes)
            page.evaluate("() => { window.__wsTimes.length = 0; }")
            times = measure(page, "keydown", lambda: track.press("Enter"), COMMIT_JS,
                            [fp, fn, before], n_stages=2)
            t0, frames = page.evaluate("() => [window.__benchT0, window.__wsTimes.slice()]")
            first, last = ((frames[0] - t0) / 1000, (frames[-1] - t0) / 1000) if frames else (0, 0)
            figs["first"].values.append(first)
            figs["last"].values.append(last)
            figs["heading"].values.append(times[0])
            figs["images"].values.append(times[1])
            figs["bytes"].values.append((sum(sizes) - received) / 1024)
            say(bench, f"Enter -> server's first message {1000 * first:.0f} ms, last "
                       f"{1000 * last:.0f} ms ({len(frames)}), heading {1000 * times[0]:.0f} ms, "
                       f"images {1000 * times[1]:.0f} ms (FP {fp}, FN {fn}; "
                       f"{(sum(sizes) - received) / 1024:.1f} KiB)")
            settle(page)
        if page.locator(srv.EXCEPTION).count():
            raise RuntimeError("the Anomaly page shows an exception")


def threshold_commit(repeats: int) -> list[Figure]:
    from playwright.sync_api import sync_playwright

    b = "threshold_commit"
    floor = Figure(b, "floor: trivial app, slider key -> text")
    figs = {"first": Figure(b, "commit (Enter) -> server's first message", baseline=floor.name),
            "last": Figure(b, "commit (Enter) -> server's last message", baseline=floor.name),
            "heading": Figure(b, "commit (Enter) -> gallery heading follows", baseline=floor.name),
            "images": Figure(b, "commit (Enter) -> + gallery images loaded", baseline=floor.name,
                             ratio_goal=1.5),
            "bytes": Figure(b, "a commit's rerun over the websocket", unit="KiB"),
            "floor": floor}
    with sync_playwright() as p, tmp_dir("threshold-commit") as tmp:
        browser = srv.launch_browser(p)
        try:
            for i in range(repeats):
                floor.values += floor_round_trips(browser, tmp / f"f{i}", b)
                _commit_repeat(browser, tmp / f"r{i}", figs)
        finally:
            browser.close()
    return list(figs.values())
