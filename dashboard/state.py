"""The session model: what a user chose, in one place, outliving every page.

Streamlit deletes a widget's state when a script run does not draw it (another page), so each
choice lives here under a "model." key no widget uses. Widgets are drawn through `bound`, which
seeds them from the model whenever they would show something else and writes their value back,
so a widget is never the only copy. Choices that belong to a run are stored per run id, so
switching runs resets exactly those and switching back restores them. The URL mirrors the
model (dashboard.url).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core.data.spec import DatasetSpec
from core.errors import UserError
from core.settings import Settings
from dashboard import url

MODEL = "model."  # prefix of every model key in st.session_state
SPEC = "dataset"  # the chosen dataset spec, as text (what runs record)
WATCHED = "train.watched"  # runs started from the Train page in this session, newest first


def settings() -> Settings:
    """Workspace and data roots; cheap, read on each call so a changed environment is honoured."""
    return Settings.from_env()


# -- plain values -------------------------------------------------------------------------------
def get(name: str, default: Any = None) -> Any:
    return st.session_state.get(MODEL + name, default)


def put(name: str, value: Any) -> None:
    st.session_state[MODEL + name] = value


def has(name: str) -> bool:
    return MODEL + name in st.session_state


def keyed(name: str, *owners: object) -> str:
    """The model name of a choice that belongs to something (a run, a source): one value each."""
    return f"{name}@" + "/".join(str(o) for o in owners)


def bound(widget: Callable, key: str, name: str, *args, default: Any,
          valid: Callable[[Any], bool] | None = None, **kwargs) -> Any:
    """Draw widget(*args, key=key, **kwargs) showing the model's value of `name` (default when
    unset or no longer valid) and keep the model in step with what the user picks."""
    value = get(name, default)
    if valid is not None and not valid(value):
        value = default
    # Assign only when the widget would show something else: Streamlit sends every assigned
    # value to the browser as "set this", so a rerun still in flight from an earlier arrow-key
    # step or drag would snap the widget back under the user's hand. A widget's identity
    # includes its page, so the same key drawn on another page is a new widget: seed it.
    page = _page()
    drawn_on = st.session_state.setdefault(MODEL + "bound.page", {})
    if (drawn_on.get(key) != page or key not in st.session_state
            or st.session_state[key] != value):
        st.session_state[key] = value
    else:
        # The widget's own default is the model's value too: a browser that mounts the widget
        # afresh from a run that did not assign it (its element replaced before it was drawn,
        # under load) shows that default and sends it back on the next rerun, which changed the
        # model silently (a validation fraction of 0.0, the slider's minimum).
        kwargs.update(_own_default(widget, args, kwargs, value))
    drawn_on[key] = page
    on_change = kwargs.pop("on_change", None)

    def store() -> None:
        put(name, st.session_state[key])
        if on_change is not None:
            on_change()

    chosen = widget(*args, key=key, on_change=store, **kwargs)
    put(name, chosen)
    return chosen


def _own_default(widget: Callable, args: tuple, kwargs: dict, value: Any) -> dict[str, Any]:
    """The argument that makes `value` the widget's own default ({} when it cannot be one)."""
    name = getattr(widget, "__name__", "")
    options = args[1] if len(args) > 1 else kwargs.get("options", ())
    if name in ("selectbox", "radio", "multiselect") and not isinstance(options, (list, tuple)):
        return {}  # read no other iterable: the widget still has to read it
    if name in ("selectbox", "radio"):
        return {"index": options.index(value)} if value in options else {}
    if name == "multiselect":
        return {"default": list(value)} if all(v in options for v in value) else {}
    if name in ("slider", "number_input") and not isinstance(value, bool):
        numbers = [a for a in (*args[1:], kwargs.get("min_value"), kwargs.get("max_value"),
                               kwargs.get("step")) if isinstance(a, (int, float))]
        if isinstance(value, int) and any(isinstance(a, float) for a in numbers):
            value = float(value)  # Streamlit refuses a mix of int and float arguments
        elif (isinstance(value, float) and value.is_integer() and numbers
              and all(isinstance(a, int) for a in numbers)):
            value = int(value)
    return {"value": value}


def _page() -> str:
    """The page this script run draws (what Streamlit makes part of each widget's identity)."""
    ctx = get_script_run_ctx()
    return ctx.page_script_hash if ctx else ""


# -- the dataset ----------------------------------------------------------------------------------
def get_spec() -> DatasetSpec:
    """The dataset last chosen; from the link the session was opened with, else built-in digits."""
    if not has(SPEC):
        put(SPEC, url.take("dataset") or "digits")
    try:
        return DatasetSpec.from_text(get(SPEC))
    except UserError:  # a hand-edited link: start from the default
        put(SPEC, "digits")
        return DatasetSpec()


def set_spec(spec: DatasetSpec) -> None:
    put(SPEC, spec.to_text())


def mirror_spec() -> None:
    """Put the chosen dataset in the address bar (every page: a reload or a link keeps it)."""
    url.show(dataset=get_spec().to_text())


# -- the run in use, per purpose --------------------------------------------------------------------
class Purpose(StrEnum):
    """What a page uses a run for: each purpose keeps its own run in use, so choosing a run on
    Predict leaves Latent's alone."""

    EVALUATE = "evaluate"
    ANOMALY = "anomaly"
    LATENT = "latent"
    PREDICT = "predict"
    AUDIT = "audit"


def run_choice(purpose: Purpose) -> str:
    """The model name of the run in use for this purpose."""
    return keyed("run", Purpose(purpose))


def selected_run(purpose: Purpose) -> str | None:
    return get(run_choice(purpose))


def select_run(purpose: Purpose, run_id: str) -> None:
    put(run_choice(purpose), run_id)


# -- runs watched on the Train page ------------------------------------------------------------------
def watched_runs() -> list[str]:
    """Ids of the runs started from the Train page in this session, newest first."""
    return list(get(WATCHED, []))


def watch_run(run_id: str) -> None:
    put(WATCHED, [run_id, *[r for r in watched_runs() if r != run_id]])


def forget_runs(run_ids: set[str]) -> None:
    """Stop watching runs that are gone (deleted), so no page keeps asking for them."""
    put(WATCHED, [r for r in watched_runs() if r not in run_ids])


# -- a kept threshold (the Anomaly page, Evaluate's two classes) ------------------------------------------
@dataclass(frozen=True)
class Threshold:
    """A kept threshold (dashboard.widgets.threshold_binding keys it per run and view)."""

    value: float
    source: str  # "manual", a strategy name, or where a default came from


# -- widgets drawn by code that takes no on_change (the threshold panel) ----------------------------
def show_in_widget(key: str, owner: object, value: Any) -> None:
    """Put value in widget `key` on behalf of owner (e.g. a run + score), before it is drawn."""
    st.session_state[key] = value
    widget_written_back(key, owner, value)


def widget_written_back(key: str, owner: object, value: Any) -> None:
    """Note that the model now holds the value widget `key` shows for owner."""
    put(keyed("shown", key), (owner, value))


def moved_widget(key: str, owner: object) -> Any | None:
    """The value of widget `key` if the user moved it since it last showed owner's value (a move
    not written back yet, e.g. when it arrives with a full rerun); None otherwise."""
    shown = get(keyed("shown", key))
    if shown is None or shown[0] != owner or key not in st.session_state:
        return None
    current = st.session_state[key]
    return current if current != shown[1] else None
