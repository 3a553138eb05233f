"""A model's size controls on the Train page, drawn from the parameters its builder takes.

Layer sizes (hidden, channels, dense) are typed as comma-separated numbers; the other parameters
sit under "More architecture settings". Only values that differ from the model's own defaults go
into the config, so an untouched preset records no parameters.
"""
from __future__ import annotations

import streamlit as st

from core.models import MODELS
from dashboard import state

LABELS = {"hidden": "Hidden layer sizes", "channels": "Conv channels per block",
          "dense": "Dense layer sizes"}


def _sizes_text(value) -> str:
    return ", ".join(str(int(v)) for v in value)


def _parse_sizes(text: str, label: str) -> tuple[tuple[int, ...] | None, str | None]:
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        return None, f"{label}: write whole numbers separated by commas, e.g. 256, 128"
    if any(s < 1 or s > 65_536 for s in sizes):
        return None, f"{label}: each size must be between 1 and 65536"
    return sizes, None


def _is_sizes(default) -> bool:
    """Layer sizes: a tuple, or None where the model picks them itself."""
    return default is None or isinstance(default, (tuple, list))


def _param_ui(model: str, param: str, default):
    """One parameter's widget; returns (value, problem or None)."""
    key, name = f"arch_{param}", state.keyed(f"train.arch.{param}", model)
    label = LABELS.get(param, param.replace("_", " ").capitalize())
    if _is_sizes(default):
        text = state.bound(st.text_input, key, name, label,
                           default="" if default is None else _sizes_text(default),
                           placeholder="chosen by the model" if default is None else "none",
                           help="Comma-separated, first layer first")
        if default is None and not text.strip():
            return None, None
        return _parse_sizes(text, label)
    if isinstance(default, bool):
        return state.bound(st.checkbox, key, name, label, default=default), None
    if isinstance(default, int):
        return int(state.bound(st.number_input, key, name, label, default=default, step=1)), None
    if isinstance(default, float):
        return float(state.bound(st.number_input, key, name, label, default=default,
                                 format="%g")), None
    return state.bound(st.text_input, key, name, label, default=str(default)), None


def _comparable(default):
    return tuple(default) if isinstance(default, list) else default


def architecture_ui(model: str) -> tuple[dict, list[str]]:
    """The model's parameters as widgets: ({name: value} where changed, problems)."""
    defaults = MODELS[model].default_params
    sizes = [p for p, v in defaults.items() if _is_sizes(v)]
    others = [p for p in defaults if p not in sizes]
    params, problems = {}, []

    def collect(param: str) -> None:
        value, problem = _param_ui(model, param, defaults[param])
        if problem:
            problems.append(problem)
        elif value != _comparable(defaults[param]):
            params[param] = list(value) if isinstance(value, tuple) else value

    if sizes:
        for col, param in zip(st.columns(len(sizes)), sizes):
            with col:
                collect(param)
    if others:
        with st.expander("More architecture settings"):
            for param in others:
                collect(param)
    return params, problems
