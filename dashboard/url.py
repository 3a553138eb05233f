"""The address bar mirrors the session model, so a reload or a copied link reopens the same view.

The link a session was opened with seeds the model: each value is taken once, by the first page
that needs it, and from then on the model wins. Every full run starts from a clean query string
and each page writes what it shows (`show`), so the URL never carries another page's values.
"""
from __future__ import annotations

import streamlit as st

OPENED_WITH = "model.url.opened_with"  # the opening link's values not taken yet
LINK = "model.url.link"  # the opening link's values, all of them


def start_run() -> None:
    """Called by the app entry before each page runs (fragment reruns skip it)."""
    if OPENED_WITH not in st.session_state:
        link = {k: st.query_params.get(k) for k in st.query_params}
        st.session_state[OPENED_WITH], st.session_state[LINK] = dict(link), link
    st.query_params.clear()


def linked(name: str) -> str | None:
    """The opening link's value of `name`, taken or not (to check what a value came with)."""
    return (st.session_state.get(LINK) or {}).get(name)


def take(name: str) -> str | None:
    """The opening link's value of `name`, once: later calls (and other pages) get None."""
    opened = st.session_state.get(OPENED_WITH)
    return opened.pop(name, None) if opened else None


def peek(name: str) -> str | None:
    """The opening link's value of `name` if it has not been taken yet."""
    return (st.session_state.get(OPENED_WITH) or {}).get(name)


def show(**params: str | None) -> None:
    """Put values in the address bar (None removes one)."""
    for name, value in params.items():
        if value is None:
            st.query_params.pop(name, None)
        elif st.query_params.get(name) != value:
            st.query_params[name] = value
