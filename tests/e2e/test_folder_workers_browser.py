"""A folder big enough for worker processes, loaded inside the real Streamlit server: its
threads mean workers come from a forkserver (the server itself is never forked), and the
page gets the images."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import data_writers as dw
from tests.e2e import server as srv

pytestmark = pytest.mark.browser


def test_worker_processes_decode_a_folder_inside_the_server(page, tmp_path):
    import core.data.decode as decode

    root = dw.write_image_folder(tmp_path / "data" / "cracks", n_per_class=420, size=(24, 24),
                                 fmt_cycle=("jpg",), corrupt=False, stray_text=False)["root"]
    script = tmp_path / "folder_app.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(srv.REPO)!r})\n"
        "import streamlit as st\n"
        "import core.data.decode as decode\n"
        "from core.data.dataset import load_dataset\n"
        f"ds = load_dataset('folder?root={root}&size=8&mode=L')\n"
        "st.text(f'loaded {len(ds.labels)} images; start method {decode._start_method()}')\n")
    server = srv.start_app(workspace=tmp_path / "ws", log_path=tmp_path / "server.log",
                           script=script, env={"DASH_DATA_ROOTS": str(tmp_path / "data")})
    try:
        srv.wait_healthy(server)
        page.goto(server.url)
        shown = page.get_by_text("loaded 840 images; start method forkserver")
        expect(shown).to_be_visible(timeout=120_000)
        expect(page.locator(srv.EXCEPTION)).to_have_count(0)
    except AssertionError:
        print(server.log_text()[-3000:])
        raise
    finally:
        server.stop()
    assert decode.worker_count(840) >= min(2, decode.usable_cores())
