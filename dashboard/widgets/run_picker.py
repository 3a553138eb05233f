"""Pick a run of the right kinds. The choice is the session model's current run for those kinds
(Evaluate: classifiers, Anomaly: models with a decoder, Latent: any) and is kept in the URL."""
from __future__ import annotations

import streamlit as st

from core.models import Kind, model_kind
from core.runs.store import Run, RunState, open_store
from core.training.config import run_config
from dashboard import state, url
from dashboard.navigation import PAGES
from dashboard.text import plain

PAGE_PATHS = {p.url_path: p.path for p in PAGES}
# The pages a run can be opened in, with the kinds of run each shows.
OPEN_IN = (("Evaluate", "evaluate", Kind.classifiers()), ("Anomaly", "anomaly", Kind.with_decoder()),
           ("Latent space", "latent", tuple(Kind)))


def runs_of_kind(kinds: tuple[Kind, ...]) -> list[Run]:
    """Runs with a best checkpoint whose model is one of kinds; newest first, shipped last."""
    out = []
    for run in open_store(state.settings()).list():
        try:
            if model_kind(run_config(run).model) in kinds and run.checkpoint("best").exists():
                out.append(run)
        except Exception:  # a broken run folder is listed on the Runs page, not here
            continue
    return out


def run_title(run: Run) -> str:
    """The run's name, with its id when the two differ (plain text)."""
    name = run.name()
    return name if name == run.id else f"{name} ({run.id})"


def run_label(run: Run) -> str:
    """name · model · state, as plain text (selectbox options are not Markdown)."""
    try:
        model = run_config(run).model
        status = "shipped" if run.read_only else run.status().get("state", "?")
    except Exception:
        model, status = "?", RunState.BROKEN
    return f"{run.name()} · {model} · {status}"


def run_picker_ui(kinds: tuple[Kind, ...], label: str = "Run") -> Run | None:
    """A selectbox of runs of these kinds, showing the current run for them (the link's run the
    first time); None when there is none."""
    runs = runs_of_kind(kinds)
    if not runs:
        return None
    by_id = {r.id: r for r in runs}
    name = state.run_choice(kinds)
    if not state.has(name) and url.peek("run") is not None:
        state.put(name, url.take("run"))
    wanted = state.get(name)
    chosen = state.bound(st.selectbox, "run_picker", name, label, list(by_id), default=runs[0].id,
                         valid=lambda v: v in by_id, format_func=lambda i: run_label(by_id[i]))
    if wanted is not None and wanted not in by_id:  # deleted meanwhile, or a link to another
        st.warning(f"Run {plain(wanted)} is not available here (deleted, no checkpoint, or not "
                   f"this page's kind of run); showing {plain(run_label(by_id[chosen]))} instead.")
    url.show(run=chosen)
    return by_id[chosen]


def render_open_in(run: Run) -> None:
    """Buttons that open this run on the pages that can show it, as their current run."""
    try:
        kind = model_kind(run_config(run).model)
    except Exception:
        return
    if not run.checkpoint("best").exists():
        return
    targets = [t for t in OPEN_IN if kind in t[2]]
    for col, (title, page, kinds) in zip(st.columns(len(targets)), targets):
        if col.button(f"Open in {title}", key=f"open_{page}_{run.id}"):
            state.select_run(kinds, run.id)
            st.switch_page(PAGE_PATHS[page])
