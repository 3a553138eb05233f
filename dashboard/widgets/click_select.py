"""A click on a point selects it in a st.plotly_chart's box and lasso modes too (Streamlit hears
a scatter's clicks only in pan mode): an empty components-v2 element whose script hands the
clicked point to the chart's own selection event (click_select_assets/click_select.js)."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

_mount = st.components.v2.component(
    "click_select", js=(Path(__file__).with_name("click_select_assets") / "click_select.js")
    .read_text(encoding="utf-8"))


def click_select_ui(chart_key: str) -> None:
    """Call right after st.plotly_chart(..., key=chart_key, on_select=...)."""
    _mount(key=f"click_select_{chart_key}", data={"chart": chart_key}, height=0)
