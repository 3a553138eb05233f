"""The threshold panel's Python side through AppTest: the sweep goes to the browser once per
session and content, a committed value is checked before it is kept, a lost payload is resent."""
from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_helpers import panel_data


def _panel_page(n: int) -> None:
    import numpy as np
    import streamlit as st

    from core.evaluation.sweep import ThresholdSweep
    from dashboard.widgets.threshold_panel import threshold_panel_ui

    rng = np.random.default_rng(n)
    y = rng.random(n) < 0.3
    sweep = ThresholdSweep(rng.normal(size=n) + y, y)
    st.write(threshold_panel_ui(sweep, "t", default=0.25, score_label="score", positive="bad <b>",
                                negative="good", bounds=(-4.0, 5.0)))


def _commit_page(value) -> None:
    import streamlit as st

    from dashboard.widgets.threshold_panel import _on_commit

    st.session_state.setdefault("t", 0.5)
    st.session_state["t_probe"] = {"commit": value}  # what the browser's trigger delivers
    _on_commit("t", "t_probe", (0.0, 1.0))
    st.write(repr(st.session_state["t"]))


def test_payload_is_sent_once_then_only_the_value() -> None:
    at = AppTest.from_function(_panel_page, args=(500,)).run()
    assert not at.exception, at.exception
    first = panel_data(at, "t")
    assert first["payload"]["table"]["n_pos"] + first["payload"]["table"]["n_neg"] == 500
    assert first["labels"]["positive"] == "bad <b>"  # names travel as data, drawn as text
    at.session_state["t"] = 1.5
    at.run()
    again = panel_data(at, "t")
    assert again["id"] == first["id"] and again["payload"] is None and again["value"] == 1.5
    assert len(json.dumps(again)) < 400  # a commit's rerun sends a few hundred bytes
    at.session_state["threshold_panel_sent"] = []  # what the browser's "missing" trigger does
    at.run()
    assert panel_data(at, "t")["payload"] is not None


@pytest.mark.parametrize("value, kept", [(0.25, 0.25), (7.0, 1.0), (-3, 0.0), (float("nan"), 0.5),
                                         (float("inf"), 0.5), ("0.3", 0.5), (True, 0.5),
                                         (None, 0.5), ([0.2], 0.5)])
def test_committed_value_is_checked_before_it_is_kept(value, kept) -> None:
    at = AppTest.from_function(_commit_page, args=(value,)).run()
    assert not at.exception, at.exception
    assert at.markdown[0].value == repr(kept)


def test_large_sweep_sends_a_quantile_table() -> None:
    at = AppTest.from_function(_panel_page, args=(60_000,), default_timeout=30).run()
    table = panel_data(at, "t")["payload"]["table"]
    assert not table["exact"] and table["n_pos"] + table["n_neg"] == 60_000
    thresholds = np.frombuffer(base64.b64decode(table["thresholds"]), "<f8")
    assert 4_000 <= len(thresholds) <= 4_096 and np.all(np.diff(thresholds) > 0)
    assert np.isclose(panel_data(at, "t")["value"], 0.25)


def test_the_panel_assets_ship_with_the_package() -> None:
    import tomllib
    from pathlib import Path

    from dashboard.widgets.threshold_panel import ASSETS

    repo = Path(__file__).resolve().parent.parent
    globs = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["dashboard"]
    shipped = {p for g in globs for p in (repo / "dashboard").glob(g)}
    assert {"panel.html", "panel.css", "panel.js", "charts.js", "sweep.js"} <= {p.name for p in shipped}
    assert set(ASSETS.iterdir()) <= shipped
