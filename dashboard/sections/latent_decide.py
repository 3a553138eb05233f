"""Latent page: the images selected on the map (box or lasso) excluded or relabelled as one
batch of decisions, merged into a decisions file in the workspace by the Audit page's writer."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core.data import labels as decided
from dashboard.sections.audit_decide import decisions_name_ui, save_decisions
from dashboard.sections.latent_space import Space
from dashboard.text import count, plain

ACTIONS = (decided.Action.EXCLUDE, decided.Action.RELABEL)
REASON = "latent map selection"


def batch(space: Space, rows: np.ndarray, action: decided.Action, label: str, reason: str) -> list[decided.Decision]:
    """The decisions for rows of the map's dataset, named as a decisions file names images."""
    ds = space.ds
    return decided.for_rows(rows, action, label, reason,
                            origin=ds.decisions.origin if ds.decisions is not None else None, files=ds.files)


def render_bulk_decision(space: Space, chosen: np.ndarray) -> None:
    """Exclude or relabel all chosen rows at once (one write of the decisions file)."""
    if not len(chosen):
        return
    with st.expander(f"Decide on the {count(len(chosen), 'selected image')}"):
        name = decisions_name_ui(key="latent_decide_file")
        cols = st.columns(2)
        action = cols[0].radio("Action", ACTIONS, format_func=str.capitalize, horizontal=True,
                               key="latent_decide_action")
        label = cols[1].selectbox("New class", list(space.classes), key="latent_decide_label",
                                  format_func=plain, disabled=action != decided.Action.RELABEL)
        reason = st.text_input("Reason", REASON, max_chars=200, key="latent_decide_reason")
        verb = "Exclude" if action == decided.Action.EXCLUDE else f"Relabel to {plain(label)}"
        if st.button(f"{verb}: write {count(len(chosen), 'decision')} to {name or '...'}",
                     key="latent_decide_write", disabled=name is None):
            st.session_state["latent_decide_saved"] = save_decisions(
                name, batch(space, chosen, decided.Action(action), label, reason.strip() or REASON))
        saved = st.session_state.pop("latent_decide_saved", None)
        if saved:
            (st.error if saved.startswith("error") else st.success)(plain(saved))
        if name:
            spec = space.ds.spec.with_(labels=name).to_text()
            st.caption(f"A run trains on the decided data with the dataset spec {plain(spec)}; "
                       "the images themselves are never changed.")
