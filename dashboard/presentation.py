"""Presentation mode: for a class in front of one projector screen at 1280x720.

A sidebar toggle kept in the session model and in the URL (`present=1`). When on, every chart
drawn through `chart` gets the projector sizes of `figures.presentable` and no plotly mode bar,
the page's own text grows (CSS below), and pages put their key view first (`on()`).
"""
from __future__ import annotations

import streamlit as st

from dashboard import state, url

NAME = "present"  # model name and URL parameter
TOGGLE = "present_toggle"
# Larger text for what a class reads (metrics, tables, captions, widget labels) and less empty
# space above the title, so a page's key view starts higher. Constant text: no user input in it.
CSS = """<style>
[data-testid="stMain"] .block-container { padding: 2.2rem 1.5rem 1rem 1.5rem; }
[data-testid="stMain"] h1 { font-size: 2rem; padding: 0 0 0.3rem 0; }
[data-testid="stMain"] p, [data-testid="stMain"] li,
[data-testid="stCaptionContainer"] { font-size: 18px !important; }
[data-testid="stMain"] [data-testid="stWidgetLabel"] p, [data-testid="stMain"] [role="radiogroup"] p {
  font-size: 15px !important; }
[data-testid="stMetricValue"] { font-size: 2.4rem; }
[data-testid="stMetricLabel"] p { font-size: 18px !important; }
[data-testid="stColumn"]:has(.st-key-train_live) { position: sticky; top: 0.5rem; align-self: flex-start; }
</style>"""


def on() -> bool:
    """Whether presentation mode is on in this session."""
    return bool(state.get(NAME, False))


def present_ui() -> bool:
    """The sidebar toggle (seeded from the opening link the first time); in the URL when on."""
    default = url.take(NAME) in ("1", "true")
    with st.sidebar:
        value = state.bound(st.toggle, TOGGLE, NAME, "Presentation mode", default=default,
                            valid=lambda v: isinstance(v, bool),
                            help="For a projector: larger type, no chart toolbar, each page's "
                                 "key view first. Kept in the link as present=1.")
        if value:
            st.markdown(CSS, unsafe_allow_html=True)  # in the sidebar: no gap above the title
    url.show(present="1" if value else None)
    return value


def chart(fig, container=None, **kwargs):
    """st.plotly_chart(fig, **kwargs) in container (st by default), restyled for a projector and
    without the mode bar when presentation mode is on."""
    if on():
        from dashboard.figures import presentable  # plotly: not imported at app start

        fig = presentable(fig)
        kwargs["config"] = {**kwargs.get("config", {}), "displayModeBar": False}
    return (container or st).plotly_chart(fig, **kwargs)
