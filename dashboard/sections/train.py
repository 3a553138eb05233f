"""The Train page's live view of a run: progress, curves, a status line. Read-only: the page
launches runs as processes and only reads their folders."""
from __future__ import annotations

import streamlit as st

from core.runs.jobs import train_command
from core.runs.store import ACTIVE, Run, RunStore
from dashboard.figures import training_curves_figure
from dashboard.state import watched_runs

MAX_SHOWN = 4  # live panels at once


def progress_text(status: dict) -> str:
    """epoch, step, speed and time left (or taken), as one line."""
    p = status.get("progress") or {}
    parts = [f"epoch {p.get('epoch', 0)}/{p.get('epochs', '?')}",
             f"step {p.get('step', 0):,}/{p.get('total_steps', 0):,}"]
    if p.get("images_per_s"):
        parts.append(f"{p['images_per_s']:,.0f} images/s")
    if status.get("state") == "running" and p.get("eta_s") is not None:
        parts.append(f"ETA {p['eta_s']:.0f} s")
    elif p.get("elapsed_s"):
        parts.append(f"{p['elapsed_s']:.0f} s")
    return " · ".join(parts)


def render_state_message(status: dict) -> None:
    """What a finished run's state means, and what to do next."""
    state = status.get("state", "?")
    best = status.get("best_metric")
    best_text = f" Best {status.get('monitor')}: {best:.4f} (epoch {status.get('best_epoch')})." \
        if best is not None else ""
    if state == "done":
        st.success(f"Finished.{best_text}")
    elif state == "stopped":
        st.info(f"Stopped on request; its checkpoint is saved and it can be resumed.{best_text}")
    elif state == "diverged":
        st.error(f"Diverged: the loss blew up, so the run stopped. The best checkpoint from before "
                 f"is kept.{best_text} Try a lower learning rate.")
    elif state == "interrupted":
        st.warning(f"Interrupted: its process is gone (killed or crashed). Its last checkpoint is "
                   f"intact and it can be resumed.{best_text}")
    elif state == "failed":
        st.error(f"Failed: {status.get('error') or 'see log.txt in the run folder'}")


def render_live_run(run: Run, smoothing: float, log_y: bool) -> None:
    """Progress and curves, redrawn from the run folder every second while the run is active."""

    @st.fragment(run_every=1.0)
    def panel() -> None:
        status = run.status()
        state = status.get("state", "?")
        cols = st.columns([6, 1])
        cols[0].progress(float((status.get("progress") or {}).get("fraction", 0.0)),
                         text=f"**{run.name()}** · {state} · "
                              + progress_text(status))
        if state in ACTIVE and not run.read_only:
            if cols[1].button("Stop", key=f"stop_{run.id}", icon=":material/stop:"):
                run.request_stop()
                st.toast("Stop requested: the run ends after the current batch.")
        else:
            render_state_message(status)
        st.plotly_chart(training_curves_figure(run.metrics(), smoothing, log_y),
                        key=f"curves_{run.id}")

    panel()


def render_live_runs(store: RunStore) -> None:
    """Runs started here plus any other active run (started elsewhere, or before a reload), each
    live, with the command that runs it from a terminal; guidance (and a stop) when there is none."""
    watched = watched_runs()
    active = [r.id for r in store.list() if r.status().get("state") in ACTIVE]
    shown = list(dict.fromkeys(active + watched))[:MAX_SHOWN]
    if not shown:
        st.info("No run yet: choose settings and press Train. Past runs are on the Runs page.")
        st.stop()
    cols = st.columns([3, 1])
    smoothing = cols[0].slider("Smoothing", 0.0, 0.99, 0.6, 0.01, key="train_smoothing")
    log_y = cols[1].toggle("Log-scale loss", key="train_log")
    for run_id in shown:
        run = store.get(run_id)
        render_live_run(run, smoothing, log_y)
        with st.expander("The same run from a terminal"):
            st.code(" ".join(train_command(run)), language="bash")
