"""An uncaught exception in the real server: the browser gets an stException element naming the
type only (no message, no traceback, no server path); the full traceback is in the server log.

The server runs with the project's settings file (.streamlit/config.toml in the repo, the
working directory of every test server), on a two-line script that raises.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e import server as srv

pytestmark = pytest.mark.browser
SECRET = "/srv/private/secret-folder/model.pt"


def test_a_crash_shows_its_type_but_no_message_trace_or_path(page, tmp_path):
    script = tmp_path / "crashing_app.py"
    script.write_text("import streamlit as st\n"
                      "st.title('before the crash')\n"
                      f"raise FileNotFoundError({SECRET!r})\n")
    server = srv.start_app(workspace=tmp_path / "ws", log_path=tmp_path / "server.log",
                           script=script)
    try:
        srv.wait_healthy(server)
        page.goto(server.url)
        box = page.locator(srv.EXCEPTION)
        expect(box).to_have_count(1)
        expect(box).to_contain_text("FileNotFoundError")
        shown = page.locator("body").inner_text()
        assert "before the crash" in shown
        for leak in (SECRET, "secret-folder", "Traceback", "crashing_app.py", str(tmp_path)):
            assert leak not in shown, f"{leak!r} is shown to the user"
        log = server.log_text()
        assert SECRET in log and "Traceback" in log, "the server log lost the traceback"
    finally:
        server.stop()
