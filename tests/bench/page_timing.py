"""In-page timing shared by the browser benchmarks, and the floor they are compared with.

Times are taken in the page: from an event's timeStamp (pointerdown, pointerup, keydown) to the
requestAnimationFrame poll that first sees the updated content, so Playwright's own overhead is
not counted. The floor is a trivial Streamlit app (one slider and one line of text,
apps/trivial_slider.py) answering an arrow key, measured in the same run and browser: no server
round trip can beat it, so each page's figure is reported as a multiple of it.
"""
from __future__ import annotations

import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from tests.e2e import server as srv

VIEWPORT = {"width": 1400, "height": 900}
LOAD_TIMEOUT_MS = 180_000
STEP_TIMEOUT_MS = 30_000
PAUSE_MS = 150  # between samples: the previous rerun's tail (websocket, GC) settles
APPS = Path(__file__).with_name("apps")
FLOOR_SAMPLES = 12

# The nth event of the armed type after arming: its timeStamp shares performance.now()'s clock.
ARM_JS = """([type, nth]) => {
    window.__benchT0 = null;
    window.__benchType = type;
    window.__benchLeft = nth;
    window.__benchStages = [];
    if (!window.__benchListening) {
        window.__benchListening = true;
        for (const t of ['pointerdown', 'pointerup', 'keydown'])
            window.addEventListener(t, e => {
                if (window.__benchT0 === null && e.type === window.__benchType
                        && --window.__benchLeft === 0)
                    window.__benchT0 = e.timeStamp;
            }, true);
    }
}"""

RUNNING = '[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]'
NOT_STALE = "!document.querySelector('[data-stale=\"true\"]')"

IMAGES_DONE = """(imgs) => imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0)"""

FLOOR_JS = f"""(want) => {NOT_STALE} && Array.from(document.querySelectorAll(
    '[data-testid="stMarkdown"]')).some(e => e.innerText.trim() === want) ? 1 : 0"""


def wait_stages(page, stages_js: str, arg, n_stages: int, timeout_ms: int) -> list[float]:
    """Poll stages_js(arg) every animation frame; it returns how many cumulative stages hold.
    Returns, per stage, the performance.now() at which it first held."""
    wrapper = f"""(arg) => {{
        const k = ({stages_js})(arg);
        const s = window.__benchStages;
        while (s.length < k) s.push(performance.now());
        return s.length >= {n_stages} ? s.slice(0, {n_stages}) : false;
    }}"""
    return page.wait_for_function(wrapper, arg=arg, polling="raf", timeout=timeout_ms).json_value()


def measure(page, event: str, action, stages_js: str, arg=None, n_stages: int = 1,
            timeout_ms: int = STEP_TIMEOUT_MS, nth: int = 1) -> list[float]:
    """Seconds from the nth `event` that action() causes to each stage being seen."""
    page.evaluate(ARM_JS, [event, nth])
    action()
    times = wait_stages(page, stages_js, arg, n_stages, timeout_ms)
    t0 = page.evaluate("() => window.__benchT0")
    if t0 is None:
        raise RuntimeError(f"the action caused no {event} event")
    return [(t - t0) / 1000 for t in times]


def settle(page, timeout_ms: int = STEP_TIMEOUT_MS) -> None:
    """Nothing stale and no script running (the status widget's running icon gone)."""
    page.wait_for_function(f"() => {NOT_STALE} && !document.querySelector({RUNNING!r})",
                           timeout=timeout_ms)
    page.wait_for_timeout(PAUSE_MS)


def say(bench: str, text: str) -> None:
    print(f"  [{bench}] {text}", file=sys.stderr, flush=True)


@contextmanager
def app_page(browser, tmp: Path, url_path: str, run_dir: Path | None = None,
             data_root: Path | None = None, script: Path = srv.APP, viewport=VIEWPORT):
    """A fresh workspace (with a copy of run_dir), server and context, the page opened at
    url_path; yields (page, server, perf_counter() before the navigation)."""
    ws = tmp / "workspace"
    if run_dir is not None:
        shutil.copytree(run_dir, ws / "runs" / run_dir.name)
    env = {"DASH_DATA_ROOTS": str(data_root)} if data_root else {}
    server = srv.start_app(workspace=ws, log_path=tmp / "streamlit.log", env=env, script=script)
    context = browser.new_context(viewport=viewport)
    try:
        srv.wait_healthy(server, timeout=60)
        page = context.new_page()
        start = time.perf_counter()
        page.goto(server.url + url_path)
        yield page, server, start
    except Exception:
        print(server.log_text()[-5000:], file=sys.stderr)
        raise
    finally:
        context.close()
        server.stop()


def floor_round_trips(browser, tmp: Path, bench: str, samples: int = FLOOR_SAMPLES) -> list[float]:
    """Seconds from an ArrowRight on the trivial app's slider to its new value shown."""
    out = []
    with app_page(browser, tmp, "/", script=APPS / "trivial_slider.py") as (page, _, _start):
        page.wait_for_function(FLOOR_JS, arg="value 50", timeout=LOAD_TIMEOUT_MS)
        settle(page)
        slider = page.get_by_role("slider").first
        for i in range(samples):
            slider.focus()
            times = measure(page, "keydown", lambda: page.keyboard.press("ArrowRight"), FLOOR_JS,
                            f"value {51 + i}")
            out.append(times[0])
            say(bench, f"floor (trivial app, slider key -> text): {1000 * times[0]:.0f} ms")
            settle(page)
    return out
