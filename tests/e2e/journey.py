"""Helpers for the user-journey browser tests: one session moving between pages of the real app.

Everything waits for state (an element, a value, no stale element), never for a fixed time, so
the journeys hold on a loaded machine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import expect

from tests.e2e import server as srv
from tests.polling import wait_for

MAIN = '[data-testid="stMain"]'
SIDEBAR = '[data-testid="stSidebar"]'
LOCAL_HOSTS = {"127.0.0.1", "localhost", ""}
SETTLED_JS = """() => !document.querySelector('[data-stale="true"]') &&
    !document.querySelector('[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]')"""


@dataclass
class JourneyApp:
    url: str
    workspace: Path
    data_root: Path


def settle(page, timeout_ms: int = 120_000) -> None:
    """Wait until no script run is in flight and nothing on the page is stale."""
    page.wait_for_function(SETTLED_JS, timeout=timeout_ms)


def go(page, title: str) -> None:
    """Switch page through the sidebar navigation: the same session, as a user would."""
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title,
                                                              exact=True).click()
    expect(page.locator(MAIN).get_by_role("heading", level=1)).to_contain_text(
        {"Evaluate": "Evaluate", "Anomaly": "Anomaly", "Runs": "Runs", "Train": "Train",
         "Data": "Data", "Latent": "Latent"}[title], timeout=120_000)


def metric(page, label: str):
    """The value element of the metric whose label is exactly `label`."""
    box = page.locator(srv.METRIC).filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{re.escape(label)}$")))
    return box.locator('[data-testid="stMetricValue"]')


def no_exception(page) -> None:
    expect(page.locator(srv.EXCEPTION)).to_have_count(0)


def record_requests(page) -> list[str]:
    """Every URL the page asks for, from now on."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    return seen


def external(urls: list[str]) -> list[str]:
    """The requests that leave this machine (or go to the test's trap port 9)."""
    return [u for u in urls if not u.startswith(("data:", "blob:"))
            and (urlparse(u).hostname not in LOCAL_HOSTS or urlparse(u).port == 9)]


def type_into(page, label: str, text: str, scope: str = SIDEBAR) -> None:
    box = page.locator(scope).get_by_role("textbox", name=label, exact=True)
    box.fill(text)
    box.press("Enter")


def slider_value(page, label: str, scope: str = SIDEBAR) -> float:
    """A Streamlit slider's value: its thumb holds a visually hidden range input (ARIA slider)."""
    return float(page.locator(scope).get_by_role("slider", name=label).input_value())


def step_slider(page, label: str, target: float, scope: str = SIDEBAR) -> None:
    """Move a slider to target with the arrow keys (one step each), then wait for the rerun."""
    slider = page.locator(scope).get_by_role("slider", name=label)
    for _ in range(100):
        now = float(slider.input_value())
        if abs(now - target) < 1e-6:
            break
        slider.press("ArrowRight" if now < target else "ArrowLeft")
    settle(page)
    # Each step starts a rerun; one may still be queued when settle() first sees the page idle.
    # The slider must end on the target and stay there (no rerun may snap it back).
    wait_for(lambda: abs(float(slider.input_value()) - target) < 1e-6, timeout=60)
    settle(page)
    shown = float(slider.input_value())
    assert abs(shown - target) < 1e-6, f"{label} shows {shown}, not {target}"


def shot(page, name: str) -> Path:
    return srv.full_page_screenshot(page, srv.ARTIFACTS / name)


def multiselect_values(page, key: str) -> list[str]:
    """The chosen values of the multiselect with widget key `key`, as its tags name them; read in
    one step in the page, so a rerun redrawing the tags cannot remove one halfway through."""
    return page.evaluate("(sel) => [...document.querySelectorAll(sel)].map(t => t.getAttribute("
                         "'aria-label'))", f".st-key-{key} [data-tag]")


def table_rows(page, key: str) -> list[list[str]]:
    """The cells of the st.dataframe with key `key`, row by row (from the grid's accessible table)."""
    table = page.locator(f".st-key-{key}")
    table.scroll_into_view_if_needed()  # the grid draws its rows once it is on screen
    table.locator("table[role=grid] tbody tr").first.wait_for(state="attached", timeout=60_000)
    rows = table.locator("table[role=grid] tbody tr").all()
    return [r.locator("td").all_inner_texts() for r in rows]


PLOT_JS = """(sel) => { const g = document.querySelector(`${sel} .js-plotly-plot`);
    return g && g._fullData ? g._fullData.map(t => t.name) : null; }"""


def trace_names(page, key: str) -> list[str] | None:
    """Names of the traces of the plotly chart with key `key` (None while it is not drawn)."""
    return page.evaluate(PLOT_JS, f".st-key-{key}")


def click_cell(page, key: str, row: int, col: int, n: int) -> None:
    """Click the centre of cell (row, col) of an n x n matrix chart whose axes span the cells."""
    plot = page.locator(f".st-key-{key} .nsewdrag").first
    plot.scroll_into_view_if_needed()
    area = plot.bounding_box()
    page.mouse.click(area["x"] + (col + 0.5) / n * area["width"],
                     area["y"] + (row + 0.5) / n * area["height"])


def open_expander(page, text: str):
    """The expander whose title holds text, opened (a click on an open one would close it)."""
    panel = page.locator('[data-testid="stExpander"]', has_text=text)
    if panel.locator("details").get_attribute("open") is None:
        panel.locator("summary").click()
    return panel
