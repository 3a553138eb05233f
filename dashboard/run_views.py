"""Shared views of runs: live progress, curves, status lines. Read-only: pages never train."""
from __future__ import annotations

import streamlit as st

from core.runs.store import ACTIVE, Run
from dashboard.figures import training_curves_figure


def progress_text(status: dict) -> str:
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


def state_message(run: Run, status: dict) -> None:
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


def live_run_ui(run: Run, smoothing: float, log_y: bool) -> None:
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
            state_message(run, status)
        st.plotly_chart(training_curves_figure(run.metrics(), smoothing, log_y),
                        key=f"curves_{run.id}")

    panel()
