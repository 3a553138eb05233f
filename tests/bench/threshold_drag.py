"""threshold_drag: the threshold panel answers a drag in the page, in Chromium.

The panel alone (apps/threshold_panel_app.py) on 10,000 and 100,000 synthetic
scores: a mouse drag over its slider, each pointermove until the frame that paints its matrix
(median and 95th percentile; goal 16 ms). Baseline: a bare page whose pointermove handler writes
one number, timed the same way. Also, for each size, the bytes the first load brings over the
websocket and the time from navigation to the first painted matrix (baseline: the trivial app's
first paint), and the bytes a commit's rerun brings (the sweep is not sent again).

"Painted" is taken as a MessageChannel task posted from the requestAnimationFrame callback after
the event: it runs once that frame's rendering is done.
"""
from __future__ import annotations

import statistics
from pathlib import Path

from tests.bench.common import Figure, tmp_dir
from tests.bench.page_timing import (
    APPS,
    FLOOR_JS,
    LOAD_TIMEOUT_MS,
    app_page,
    say,
    settle,
)
from tests.e2e import server as srv

SIZES = {"1e4": 10_000, "1e5": 100_000}
MOVES = 80  # pointermoves per drag
MOVE_PAUSE_MS = 20  # a hand's drag: about 50 moves a second
CELL = "[data-cell=tp] b"

# After the panel's own handler (window, bubbling): per move, [event -> painted, event -> handled,
# whether the matrix text changed].
DRAG_PROBE_JS = """(cellSelector) => {
    window.__drag = [];
    const host = document.querySelector('[data-testid="stBidiComponentIsolated"]');
    const cell = cellSelector ? host.shadowRoot.querySelector(cellSelector)
                              : document.getElementById('value');
    let before = cell.textContent;
    window.addEventListener('pointermove', (e) => {
        const t0 = e.timeStamp, handled = performance.now();
        const changed = cell.textContent !== before;
        before = cell.textContent;
        requestAnimationFrame(() => {
            const channel = new MessageChannel();
            channel.port1.onmessage = () =>
                window.__drag.push([performance.now() - t0, handled - t0, changed]);
            channel.port2.postMessage(0);
        });
    });
}"""

BARE_PAGE = """<div id="value" style="font: 26px sans-serif; margin: 200px">0</div><script>
document.addEventListener('pointermove', (e) => {
    document.getElementById('value').textContent = String(e.clientX); });</script>"""

PANEL_READY_JS = f"""() => {{
    const host = document.querySelector('[data-testid="stBidiComponentIsolated"]');
    const cell = host && host.shadowRoot && host.shadowRoot.querySelector({CELL!r});
    return cell && /\\d/.test(cell.textContent) ? performance.now() : false;
}}"""


def _drag(page, box: dict, moves: int = MOVES) -> list[list]:
    """Press on box's centre and move across 300 px and back; the probe's samples."""
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(moves):
        phase = (i % 40) / 40
        page.mouse.move(x - 150 + 300 * (2 * phase if phase < 0.5 else 2 - 2 * phase), y)
        page.wait_for_timeout(MOVE_PAUSE_MS)
    page.mouse.up()
    page.wait_for_timeout(100)
    return page.evaluate("() => window.__drag")


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def websocket_bytes(page) -> list[int]:
    """A list that grows with the size of every websocket frame the page receives."""
    sizes: list[int] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda p: sizes.append(len(p))))
    return sizes


def _panel_repeat(browser, tmp: Path, label: str, n: int, figs: dict) -> None:
    bench = "threshold_drag"
    with app_page(browser, tmp, f"/?n={n}", script=APPS / "threshold_panel_app.py",
                  viewport={"width": 1280, "height": 720}) as (page, _, _start):
        page.wait_for_function(PANEL_READY_JS, timeout=LOAD_TIMEOUT_MS)  # cold: bundles, sweep
        settle(page)
        sizes = websocket_bytes(page)
        page.reload()  # a new session on warm caches: the sweep is sent again
        painted = page.wait_for_function(PANEL_READY_JS, polling="raf",
                                         timeout=LOAD_TIMEOUT_MS).json_value()
        settle(page)
        figs[f"paint {label}"].values.append(painted / 1000)
        figs[f"bytes {label}"].values.append(sum(sizes) / 1024)
        say(bench, f"{label}: first matrix painted {painted:.0f} ms after navigation, "
                   f"{sum(sizes) / 1024:.0f} KiB over the websocket")
        page.evaluate(DRAG_PROBE_JS, CELL)
        before = len(sizes), sum(sizes)
        samples = _drag(page, page.locator(".tp-thumb").bounding_box())
        settle(page)
        page.wait_for_timeout(500)
        commit_bytes = sum(sizes) - before[1]
        figs[f"commit {label}"].values.append(commit_bytes / 1024)
        painted = [s[0] / 1000 for s in samples]
        figs[f"drag {label}"].values += painted
        figs[f"p95 {label}"].values.append(_p95(painted))
        figs[f"handler {label}"].values += [s[1] / 1000 for s in samples]
        say(bench, f"{label}: {len(samples)} moves ({sum(s[2] for s in samples)} changed the "
                   f"matrix): median {1000 * statistics.median(painted):.1f} ms, p95 "
                   f"{1000 * _p95(painted):.1f} ms; the commit's rerun brought "
                   f"{commit_bytes / 1024:.1f} KiB in {len(sizes) - before[0]} frames")


def _bare_and_trivial(browser, tmp: Path, figs: dict) -> None:
    """The baselines: a bare page's pointermove paint, the trivial app's first paint."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.set_content(BARE_PAGE)
        page.evaluate(DRAG_PROBE_JS, None)
        samples = _drag(page, page.locator("#value").bounding_box())
        painted = [s[0] / 1000 for s in samples]
        figs["bare"].values += painted
        figs["bare p95"].values.append(_p95(painted))
    finally:
        context.close()
    with app_page(browser, tmp, "/", script=APPS / "trivial_slider.py",
                  viewport={"width": 1280, "height": 720}) as (page, _, _start):
        page.wait_for_function(FLOOR_JS, arg="value 50", timeout=LOAD_TIMEOUT_MS)
        settle(page)
        page.reload()  # warm caches, as for the panel
        painted = page.wait_for_function(f"() => ({FLOOR_JS})('value 50') && performance.now()",
                                         polling="raf", timeout=LOAD_TIMEOUT_MS).json_value()
        figs["trivial paint"].values.append(painted / 1000)
        say("threshold_drag", f"trivial app painted {painted:.0f} ms after navigation")


def threshold_drag(repeats: int) -> list[Figure]:
    from playwright.sync_api import sync_playwright

    b = "threshold_drag"
    figs = {"bare": Figure(b, "baseline: bare page, pointermove -> text painted"),
            "bare p95": Figure(b, "baseline: bare page, 95th percentile"),
            "trivial paint": Figure(b, "baseline: trivial app, navigation -> text painted")}
    for label in SIZES:
        figs[f"drag {label}"] = Figure(b, f"{label} scores: pointermove -> matrix painted",
                                       goal=0.016, baseline=figs["bare"].name)
        figs[f"p95 {label}"] = Figure(b, f"{label} scores: 95th percentile of that",
                                      baseline=figs["bare p95"].name)
        figs[f"handler {label}"] = Figure(b, f"{label} scores: pointermove -> panel updated")
        figs[f"paint {label}"] = Figure(b, f"{label} scores: navigation -> matrix painted",
                                        baseline=figs["trivial paint"].name)
        figs[f"bytes {label}"] = Figure(b, f"{label} scores: first load over the websocket",
                                        unit="KiB")
        figs[f"commit {label}"] = Figure(b, f"{label} scores: a commit's rerun over the websocket",
                                         unit="KiB")
    with sync_playwright() as p, tmp_dir("threshold-drag") as tmp:
        browser = srv.launch_browser(p)
        try:
            for i in range(repeats):
                _bare_and_trivial(browser, tmp / f"t{i}", figs)
                for label, n in SIZES.items():
                    _panel_repeat(browser, tmp / f"{label}-{i}", label, n, figs)
        finally:
            browser.close()
    return list(figs.values())
