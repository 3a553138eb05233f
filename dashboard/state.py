"""What the app remembers across pages, in one place: typed accessors over st.session_state.

Streamlit deletes a widget's state when a script run does not draw it, so a choice that must
outlive a page is kept here, under a key no widget uses, and widgets are seeded from it.
"""
from __future__ import annotations

import streamlit as st

from core.data.spec import DatasetSpec
from core.errors import UserError
from core.settings import Settings

SPEC = "dataset_spec"  # the dataset picker's spec, as text (what runs record)
SELECTED_RUN = "selected_run"  # the run in use, shared by the Evaluate, Anomaly and Latent pages
TRAIN_RUNS = "train_runs"  # runs started from the Train page in this session, newest first


def settings() -> Settings:
    """Workspace and data roots; cheap, read on each call so a changed environment is honoured."""
    return Settings.from_env()


def get_spec() -> DatasetSpec:
    """The dataset last chosen in the picker; the built-in digits before any choice (or if the
    stored text no longer parses)."""
    try:
        return DatasetSpec.from_text(st.session_state.get(SPEC, "digits"))
    except UserError:
        return DatasetSpec()


def set_spec(spec: DatasetSpec) -> None:
    st.session_state[SPEC] = spec.to_text()


def selected_run() -> str | None:
    """Id of the run last picked (or opened from the Runs page), if any."""
    return st.session_state.get(SELECTED_RUN)


def select_run(run_id: str) -> None:
    st.session_state[SELECTED_RUN] = run_id


def watched_runs() -> list[str]:
    """Ids of the runs started from the Train page in this session, newest first."""
    return list(st.session_state.get(TRAIN_RUNS, []))


def watch_run(run_id: str) -> None:
    st.session_state[TRAIN_RUNS] = [run_id, *watched_runs()]
