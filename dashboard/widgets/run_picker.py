"""Pick a run of the right kinds; the choice is shared by the evaluation pages and kept in the URL."""
from __future__ import annotations

import streamlit as st

from core.models import Kind, model_kind
from core.runs.store import Run, open_store
from dashboard.navigation import PAGES
from dashboard.state import select_run, selected_run, settings

PAGE_PATHS = {p.url_path: p.path for p in PAGES}


def runs_of_kind(kinds: tuple[Kind, ...]) -> list[Run]:
    """Runs with a best checkpoint whose model is one of kinds; newest first, shipped last."""
    out = []
    for run in open_store(settings()).list():
        try:
            if model_kind(run.config().model) in kinds and run.checkpoint("best").exists():
                out.append(run)
        except Exception:  # an unreadable run folder is listed on the Runs page, not here
            continue
    return out


def run_picker_ui(kinds: tuple[Kind, ...], label: str = "Run") -> Run | None:
    """A selectbox of runs; remembers the choice in the URL (?run=ID) for shareable links."""
    runs = runs_of_kind(kinds)
    if not runs:
        return None
    ids = [r.id for r in runs]
    wanted = st.query_params.get("run") or selected_run()
    if "run_picker" not in st.session_state or st.session_state["run_picker"] not in ids:
        st.session_state["run_picker"] = wanted if wanted in ids else ids[0]
    by_id = {r.id: r for r in runs}
    chosen = st.selectbox(label, ids, key="run_picker", format_func=lambda i: (
        f"{by_id[i].name()} · {by_id[i].config().model}"
        + (" · shipped" if by_id[i].read_only else f" · {by_id[i].status().get('state')}")))
    st.query_params["run"] = chosen
    select_run(chosen)
    return by_id[chosen]


def render_open_in(run: Run) -> None:
    """Buttons that open this run on the pages that can show it (the picker reads the choice)."""
    if not run.checkpoint("best").exists():
        return
    kind = model_kind(run.config().model)
    targets = [("Evaluate", "evaluate")] if kind.predicts_classes else [("Anomaly", "anomaly")]
    targets.append(("Latent space", "latent"))
    for col, (title, page) in zip(st.columns(len(targets)), targets):
        if col.button(f"Open in {title}", key=f"open_{page}_{run.id}"):
            select_run(run.id)
            st.session_state.pop("run_picker", None)  # re-seeded from the selected run
            st.switch_page(PAGE_PATHS[page])
