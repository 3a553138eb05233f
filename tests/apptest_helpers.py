"""Opening a page of the real app in AppTest, and reading what it shows."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


def open_page(page: str, timeout: float = 120, **query: str | None) -> AppTest:
    """Run the app entry, switch to pages/<page>.py with the given URL query, check no exception."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in query.items():
        if value is not None:
            at.query_params[key] = value
    at.run()
    at.switch_page(f"../pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def panel_data(at: AppTest, key: str) -> dict:
    """The data the threshold panel kept at session_state[key] sent to the browser this run."""
    panels = [e for e in at.get("bidi_component") if e.proto.component_name == "threshold_panel"
              and e.proto.id.endswith(f"{key}_panel")]
    assert len(panels) == 1, f"{len(panels)} threshold panels for {key}"
    return json.loads(panels[0].proto.json)
