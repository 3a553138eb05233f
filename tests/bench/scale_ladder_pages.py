"""The scale ladder's page figures: the Data, Evaluate and Latent pages' first render in headless
Chromium, on a fresh server over the rung's workspace (datasets and run results already cached
on disk by the earlier steps, as after any first visit), with the server's peak RSS."""
from __future__ import annotations

import time
from pathlib import Path

from tests.bench.scale_ladder_data import Rung
from tests.e2e import server as srv

TIMEOUT_MS = 600_000
NOT_STALE = "!document.querySelector('[data-stale=\"true\"]')"
IMAGES_LOADED = """() => Array.from(document.querySelectorAll('[data-testid="stMain"] img'))
    .every(i => i.complete && i.naturalWidth > 0)"""


def _settled(page) -> None:
    """Nothing stale, the script finished (no running indicator) and every image has loaded."""
    page.wait_for_function(f"() => {NOT_STALE}", timeout=TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=TIMEOUT_MS)
    page.wait_for_function(IMAGES_LOADED, timeout=TIMEOUT_MS)
    if page.locator(srv.EXCEPTION).count():
        raise RuntimeError(page.locator(srv.EXCEPTION).first.inner_text())


def _data_page(page, url: str, rung: Rung, root: Path) -> None:
    page.goto(url + "/data")
    srv.wait_data_page(page, timeout_ms=TIMEOUT_MS)
    if rung.name == "digits":
        return
    if rung.name.startswith("folders"):  # size and colour before the folder, so 227x227 RGB never loads
        srv.choose(page, "Source", rung.source_title)
        _settled(page)
        srv.choose(page, "Resize to", "32 x 32")
        srv.choose(page, "Colour", "grayscale")
        folder = page.get_by_role("textbox", name="Folder")
        folder.fill(str(root / rung.name))
        folder.press("Enter")
    else:
        srv.choose(page, "Source", rung.source_title)  # the suggested folder is the rung's
    page.wait_for_function(
        """(n) => Array.from(document.querySelectorAll('[data-testid="stMetric"]'))
                 .some(m => m.innerText.includes('classes') && m.innerText.includes(String(n)))""",
        arg=rung.classes, timeout=TIMEOUT_MS)
    srv.wait_data_page(page, timeout_ms=TIMEOUT_MS)
    _settled(page)


def _evaluate_page(page, url: str, run_id: str) -> None:
    page.goto(f"{url}/evaluate?run={run_id}")
    page.wait_for_selector(srv.METRIC, state="visible", timeout=TIMEOUT_MS)
    page.wait_for_selector(".st-key-roc_chart .js-plotly-plot, .js-plotly-plot", timeout=TIMEOUT_MS)
    _settled(page)


def _latent_page(page, url: str, run_id: str) -> None:
    page.goto(f"{url}/latent?run={run_id}")
    page.wait_for_function(
        """() => { const g = document.querySelector('.st-key-latent_map .js-plotly-plot');
                   return g && g._fullData && g._fullData.length > 1; }""", timeout=TIMEOUT_MS)
    _settled(page)


def page_figures(rung: Rung, workspace: Path, root: Path, runs: dict) -> dict[str, tuple[float, float]]:
    """{page: (seconds to first full render, server peak RSS MiB after it)}."""
    from playwright.sync_api import sync_playwright

    out = {}
    env = {"DASH_DATA_ROOTS": str(root), "DASH_AUTO_PROJECTIONS": "0"}
    with sync_playwright() as p:
        browser = srv.launch_browser(p)
        server = srv.start_app(workspace, workspace / "streamlit.log", env=env)
        try:
            srv.wait_healthy(server, timeout=120)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            for name, visit in (("Data page", lambda: _data_page(page, server.url, rung, root)),
                                ("Evaluate page", lambda: _evaluate_page(page, server.url, runs["cnn"])),
                                ("Latent page", lambda: _latent_page(page, server.url, runs["ae"]))):
                start = time.perf_counter()
                visit()
                out[name] = (time.perf_counter() - start, srv.peak_rss_mib(server.proc.pid))
            context.close()
        except Exception:
            print(server.log_text()[-3000:])
            raise
        finally:
            server.stop()
            browser.close()
    return out
