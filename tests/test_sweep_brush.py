"""Brushing the Sweep page's parallel-coordinates plot: which trials lie inside the brushed
ranges (pure), what the browser's message may hold, and the page's table under a kept brush."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.sweep_brush import axis_numbers, brushed, clean_ranges
from tests.apptest_helpers import open_page
from tests.sweep_records import TRIALS, finished_sweep

ROWS = [{"number": i, "params": {"lr": lr, "param.hidden": hidden, "model": "mlp"}, "value": value}
        for i, (lr, hidden, value) in enumerate(TRIALS)] + [
    {"number": 6, "params": {"lr": 0.01, "param.hidden": [16], "model": "mlp"}, "value": None}]
NAMES, METRIC = ["lr", "param.hidden"], "val_acc"


def _numbers(rows) -> list[int]:
    return [r["number"] for r in rows]


def test_categories_sit_at_their_index_among_the_sorted_values() -> None:
    assert axis_numbers([0.1, 2, 0.1]) == ([0.1, 2.0, 0.1], None)
    assert axis_numbers([[32], [16], "a"]) == ([1.0, 0.0, 2.0], ["[16]", "[32]", "a"])
    assert axis_numbers([True, False]) == ([1.0, 0.0], ["false", "true"])  # a flag is a category


def test_brushed_keeps_the_trials_inside_every_range() -> None:
    assert _numbers(brushed(ROWS, NAMES, METRIC, {})) == [0, 1, 2, 3, 4, 5]  # drawn trials only
    assert _numbers(brushed(ROWS, NAMES, METRIC, {"lr": [(0.002, 0.02)]})) == [0, 1, 2, 3]
    both = {"lr": [(0.002, 0.02)], "param.hidden": [(0.9, 1.1)]}  # [32] is category 1
    assert _numbers(brushed(ROWS, NAMES, METRIC, both)) == [1, 3]
    two = {METRIC: [(0.5, 0.6), (0.9, 1.0)]}  # several ranges on one axis: inside any of them
    assert _numbers(brushed(ROWS, NAMES, METRIC, two)) == [0, 1, 4]
    assert _numbers(brushed(ROWS, NAMES, METRIC, {"lr": [(0.003, 0.003)]})) == [2, 3]  # ends count
    import numpy as np  # the browser's ranges come back through float32
    f32 = float(np.float32(0.003))
    assert _numbers(brushed(ROWS, NAMES, METRIC, {"lr": [(f32, f32)]})) == [2, 3]
    assert brushed(ROWS, NAMES, METRIC, {"lr": [(0.5, 0.6)]}) == []
    assert _numbers(brushed(ROWS, NAMES, METRIC, {"seed": [(0, 1)]})) == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("message, kept", [
    ({"lr": [0.02, 0.002]}, {"lr": [(0.002, 0.02)]}),  # one range, ends in any order
    ({"val_acc": [[0.9, 1], [0.5, 0.6]]}, {"val_acc": [(0.5, 0.6), (0.9, 1.0)]}),
    ({"lr": [0.1, float("nan")], "val_acc": [0, 1]}, {"val_acc": [(0.0, 1.0)]}),  # a bad axis only
    ({"colour": [0, 1]}, {}), ({"lr": [0, 1, 2]}, {}), ({"lr": [[0, "1"]]}, {}), ({"lr": [True, 1]}, {}),
    ({"lr": [[0, 1]] * 17}, {}), ({"lr": []}, {}), ([0, 1], {}), (None, {}), ("lr", {}),
])
def test_the_browser_message_is_checked_before_it_filters(message, kept) -> None:
    assert clean_ranges(message, [*NAMES, METRIC]) == kept


def _ranges_page(message) -> None:
    import streamlit as st

    from dashboard.widgets.parcoords_brush import _on_ranges

    st.session_state["b"] = {"ranges": message}  # what the browser's trigger delivers
    _on_ranges("b_ranges", "b", ["lr", "val_acc"])
    st.write(repr(st.session_state["b_ranges"]))


def test_the_ranges_trigger_keeps_only_checked_ranges() -> None:
    at = AppTest.from_function(_ranges_page, args=({"lr": [0.1, 0.01], "x": [0, 1]},)).run()
    assert not at.exception and at.markdown[0].value == repr({"lr": [(0.01, 0.1)]})


def _brush(at) -> dict:
    (element,) = [e for e in at.get("bidi_component") if e.proto.component_name == "parcoords_brush"]
    return json.loads(element.proto.json)


def test_the_sweep_page_filters_its_table_by_the_kept_brush(settings) -> None:
    sweep = finished_sweep(settings.workspace)
    at = open_page("sweep", sweep=sweep.id)
    first = _brush(at)
    assert first["names"] == ["lr", "param.hidden", "val_acc"] and len(first["source"]) > 1_000_000
    dims = first["figure"]["data"][0]["dimensions"]
    assert [d["label"] for d in dims] == first["names"] and "constraintrange" not in dims[0]
    assert len(at.dataframe[0].value) == 6
    key = f"sweep_parcoords_{sweep.id}_ranges"
    at.session_state[key] = {"lr": [(0.002, 0.02)], "param.hidden": [(0.5, 1.5)]}
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["trial"]) == [1, 3] and list(table["param.hidden"]) == ["[32]", "[32]"]
    assert "2 of 6 trials inside the brushed ranges" in " ".join(c.value for c in at.caption)
    again = _brush(at)
    assert again["source"] is None  # plotly.js went once this session
    dims = again["figure"]["data"][0]["dimensions"]
    assert dims[0]["constraintrange"] == [0.002, 0.02] and dims[1]["constraintrange"] == [0.5, 1.5]
    at.session_state[key] = {"lr": [(0.5, 0.6)]}
    at.run()
    assert at.dataframe[0].value.empty and list(at.dataframe[0].value.columns)[:3] == ["trial", "state", "val_acc"]
    at.session_state["parcoords_brush_sent"] = False  # what the browser's "missing" trigger does
    at.run()
    assert _brush(at)["source"] is not None


def test_the_brush_script_ships_with_the_package() -> None:
    import tomllib
    from pathlib import Path

    from dashboard.widgets.parcoords_brush import ASSETS

    repo = Path(__file__).resolve().parent.parent
    globs = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["dashboard"]
    assert set(ASSETS.iterdir()) <= {p for g in globs for p in (repo / "dashboard").glob(g)}
