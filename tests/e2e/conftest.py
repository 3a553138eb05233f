"""Fixtures for the browser tests: one Streamlit server and one Chromium per session."""
from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager

import pytest

from tests.e2e import server as srv

_STARTED = time.time()


def pytest_terminal_summary(terminalreporter):
    """List the artifacts (screenshot, kept server log) this session wrote."""
    written = [p for p in sorted(srv.ARTIFACTS.glob("*")) if p.stat().st_mtime >= _STARTED]
    for path in written:
        terminalreporter.write_line(f"artifact: {path}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember on the session whether any test failed, so the server log can be kept."""
    report = yield
    if report.failed:
        item.session.e2e_failed = True
    return report


@pytest.fixture(scope="session")
def app_workspace(tmp_path_factory):
    """The app server's workspace: empty at start; a test may create runs in it."""
    return tmp_path_factory.mktemp("app") / "workspace"


@contextmanager
def _serving(server: srv.AppServer, request, kept_log: str, timeout: float):
    """Wait for the server, then keep it for the session; stop it at the end, and keep its log
    under tests/artifacts/kept_log when any browser test failed."""
    try:
        srv.wait_healthy(server, timeout=timeout)
        yield
    except Exception:
        request.session.e2e_failed = True
        raise
    finally:
        server.stop()
        if getattr(request.session, "e2e_failed", False):
            srv.ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(server.log_path, srv.ARTIFACTS / kept_log)
            print(f"\nstreamlit log kept at {srv.ARTIFACTS / kept_log}")


@pytest.fixture(scope="session")
def app_server(app_workspace, request):
    """Base URL of the app, started with an empty workspace in a tmp dir."""
    server = srv.start_app(workspace=app_workspace, log_path=app_workspace.parent / "streamlit.log")
    with _serving(server, request, "streamlit.log", timeout=60):
        yield server.url


@pytest.fixture(scope="session")
def browser():
    """The launched Chromium, shared by all tests; skipped (failed when CI=true) without it."""
    if srv.chromium_path() is None:
        message = f"Chromium not found at {srv.CHROMIUM}; install the Debian 'chromium' package"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: browser tests must run on CI)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = srv.launch_browser(p)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (its own Streamlit session) per test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(60_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def journey_app(tmp_path_factory, request):
    """A second app for the user journeys, whose only data root lies outside its workspace (as
    with DASH_DATA_ROOTS=/data): the app's own upload folder must still be allowed."""
    from tests.e2e.journey import JourneyApp

    tmp = tmp_path_factory.mktemp("journeys")
    root = tmp / "data-root"
    root.mkdir()
    server = srv.start_app(workspace=tmp / "workspace", log_path=tmp / "streamlit.log",
                           env={"DASH_DATA_ROOTS": str(root)})
    with _serving(server, request, "streamlit-journeys.log", timeout=90):
        yield JourneyApp(server.url, tmp / "workspace", root)


@pytest.fixture(scope="module")
def sweep_js(browser):
    """A blank page with the threshold panel's sweep.js loaded: its functions, called directly."""
    from dashboard.widgets.threshold_panel import ASSETS

    context = browser.new_context()
    page = context.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=(ASSETS / "sweep.js").read_text())
    yield page
    context.close()
