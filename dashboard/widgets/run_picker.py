"""Pick a run for a purpose. The choice is the session model's run in use for that purpose
(Evaluate: classifiers, Anomaly: models with a decoder, Latent and Predict: any; each its own) and
is kept in the URL. Options show name, id, dataset, model and state, as the Runs page does."""
from __future__ import annotations

import streamlit as st

from core.models import Kind, model_kind
from core.runs.store import Run, RunState, open_store
from core.training.config import run_config
from dashboard import state, url
from dashboard.navigation import PAGES
from dashboard.state import Purpose
from dashboard.text import plain

PAGE_PATHS = {p.url_path: p.path for p in PAGES}
KINDS = {Purpose.EVALUATE: Kind.classifiers(), Purpose.ANOMALY: Kind.with_decoder(),
         Purpose.LATENT: tuple(Kind), Purpose.PREDICT: tuple(Kind),
         Purpose.AUDIT: Kind.classifiers()}
# The pages a run can be opened in (each page's url_path is its purpose).
OPEN_IN = (("Evaluate", Purpose.EVALUATE), ("Anomaly", Purpose.ANOMALY),
           ("Latent space", Purpose.LATENT))
DATASET_SHOWN = 48  # characters of a dataset spec in a picker option (a folder path can be long)


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


def _short(text: str, limit: int = DATASET_SHOWN) -> str:
    """text cut in the middle with an ellipsis (a folder's start and its last part both tell)."""
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return text[:half] + "…" + text[-(limit - 1 - half):]


def run_label(run: Run) -> str:
    """name (id) · dataset · model · state, as plain text (selectbox options are not Markdown):
    two runs named alike differ by id, and the dataset says what each was trained on."""
    try:
        config = run_config(run)
        dataset, model = _short(config.dataset), config.model
        status = "shipped" if run.read_only else run.status().get("state", "?")
    except Exception:
        dataset, model, status = "?", "?", RunState.BROKEN
    return f"{run.name()} ({run.id}) · {dataset} · {model} · {status}"


def run_picker_ui(purpose: Purpose, label: str = "Run") -> Run | None:
    """A selectbox of runs fit for this purpose, showing the run in use for it (the link's run the
    first time); None when there is none."""
    runs = runs_of_kind(KINDS[purpose])
    if not runs:
        return None
    by_id = {r.id: r for r in runs}
    name = state.run_choice(purpose)
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
    targets = [t for t in OPEN_IN if kind in KINDS[t[1]]]
    for col, (title, purpose) in zip(st.columns(len(targets)), targets):
        if col.button(f"Open in {title}", key=f"open_{purpose}_{run.id}"):
            state.select_run(purpose, run.id)
            st.switch_page(PAGE_PATHS[str(purpose)])
