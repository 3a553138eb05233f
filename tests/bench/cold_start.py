"""cold_start: launching `streamlit run` until the Data page is rendered in Chromium.

Each repeat starts a fresh server with an empty workspace (so the digits cache is cold) and a
fresh browser context; the browser itself is launched once. Baseline: a one-line app until its
text is visible.
"""
from __future__ import annotations

import time
from pathlib import Path

from tests.bench.common import Figure, tmp_dir
from tests.e2e import server as srv

HELLO_APP = 'import streamlit as st\nst.write("hi")\n'


def _launch_to_render(browser, tmp: Path, url_path: str, wait, script: Path = srv.APP) -> float:
    """Seconds from Popen to `wait(page)` returning; the server is stopped afterwards."""
    start = time.perf_counter()
    server = srv.start_app(workspace=tmp / "workspace", log_path=tmp / "streamlit.log",
                           script=script)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        srv.wait_healthy(server, timeout=60)
        page = context.new_page()
        page.goto(server.url + url_path)
        wait(page)
        return time.perf_counter() - start
    except Exception:
        print(server.log_text())
        raise
    finally:
        context.close()
        server.stop()


def _hello_visible(page) -> None:
    page.get_by_text("hi", exact=True).wait_for(state="visible", timeout=60_000)


def cold_start(repeats: int) -> list[Figure]:
    from playwright.sync_api import sync_playwright

    base = Figure("cold_start", "baseline: st.write('hi') app")
    app = Figure("cold_start", "app /data rendered (empty ws)", goal=5.0, baseline=base.name)
    with sync_playwright() as p, tmp_dir("cold") as tmp:
        browser = srv.launch_browser(p)
        hello = tmp / "hello_app.py"
        hello.write_text(HELLO_APP)
        for i in range(repeats):
            base.values.append(_launch_to_render(browser, tmp / f"hello{i}", "/", _hello_visible,
                                                 script=hello))
            app.values.append(_launch_to_render(browser, tmp / f"app{i}", "/data",
                                                srv.wait_data_page))
        browser.close()
    return [app, base]
