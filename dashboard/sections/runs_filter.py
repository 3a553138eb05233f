"""Runs page additions: keep one sweep's runs or those a filter text matches (config fields,
best metric), group them by a field (count, mean and spread of the best metric), and the config
fields two runs differ in."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core.errors import UserError
from core.runs.query import group_fields, groups, matching, parse
from core.runs.store import Run
from core.training.config import run_config
from dashboard import state
from dashboard.text import sentence
from dashboard.widgets.run_picker import run_title

ALL = "all runs"
NO_GROUPS = "no grouping"


def sweep_of(run: Run) -> str | None:
    """The sweep id a run belongs to (its config's `sweep`, SWEEP#N), or None."""
    try:
        tag = run.config_dict().get("sweep")
    except Exception:  # a broken folder belongs to no sweep
        return None
    return tag.partition("#")[0] or None if isinstance(tag, str) else None


def sweep_filter_ui(runs: list[Run]) -> list[Run]:
    """A selectbox of the sweeps these runs belong to; the runs of the chosen one (all by default)."""
    tags = {r.id: sweep_of(r) for r in runs}
    sweeps = sorted({t for t in tags.values() if t}, reverse=True)
    if not sweeps:
        return runs
    options = [ALL, *sweeps]
    chosen = state.bound(st.selectbox, "runs_sweep", "runs.sweep", "Sweep", options, default=ALL,
                         valid=lambda v: v in options)
    return runs if chosen == ALL else [r for r in runs if tags[r.id] == chosen]


def query_filter_ui(runs: list[Run]) -> list[Run]:
    """A text filter on config fields and the best metric (core.runs.query)."""
    text = state.bound(st.text_input, "runs_query", "runs.query", "Filter", default="",
                       placeholder="model=mlp lr<0.01 best>=0.9",
                       help="config fields, param.NAME, best (validation metric) and state; "
                            "= != < <= > >=, conditions separated by spaces")
    try:
        return matching(runs, parse(text))
    except UserError as exc:
        st.error(sentence(str(exc)))
        return runs


def render_groups(runs: list[Run]) -> None:
    """A "Group by" choice (sweep, or any config field that differs between the runs); the
    groups with how many runs, and the mean, spread, min and max of their best metric."""
    fields = group_fields(runs)
    if not fields:
        return
    options = [NO_GROUPS, *fields]
    field = state.bound(st.selectbox, "runs_group", "runs.group", "Group by", options, default=NO_GROUPS,
                        valid=lambda v: v in options)
    if field == NO_GROUPS:
        return
    number = st.column_config.NumberColumn(format="%.4f")
    st.dataframe(pd.DataFrame(groups(runs, field)), hide_index=True, key="runs_groups",
                 column_config={"mean": number, "std": number, "min": number, "max": number})
    st.caption("Best validation metric per group: mean, sample standard deviation (two runs or "
               "more), min and max over the runs that have one (\"scored\").")


def config_diff(a: Run, b: Run) -> pd.DataFrame:
    """The config fields whose values differ between two runs (JSON text of each value)."""
    da, db = run_config(a).to_dict(), run_config(b).to_dict()
    ta, tb = run_title(a), run_title(b)
    rows = [{"field": k, ta: json.dumps(da.get(k)), tb: json.dumps(db.get(k))}
            for k in sorted(set(da) | set(db)) if da.get(k) != db.get(k)]
    return pd.DataFrame(rows, columns=["field", ta, tb])


def render_config_diff(runs: list[Run]) -> None:
    if len(runs) != 2:
        return
    try:
        diff = config_diff(*runs)
    except Exception as exc:  # an unreadable config: say so, keep the page
        st.caption(f"No config diff: {type(exc).__name__}")
        return
    st.subheader("What differs")
    if diff.empty:
        st.caption("The two runs have the same config.")
    else:
        st.dataframe(diff, hide_index=True, key="runs_config_diff")
