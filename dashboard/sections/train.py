"""The Train page's live view of runs: progress, curves, a status line. Read-only: the page
launches runs as processes and only reads their folders."""
from __future__ import annotations

import time

import streamlit as st

from core.models import model_kind
from core.runs.jobs import train_command
from core.runs.store import ACTIVE, Run, RunState, RunStore
from core.training.config import run_config
from dashboard import state
from dashboard.figures import training_curves_figure
from dashboard.presentation import chart
from dashboard.sections.probes import render_probes
from dashboard.text import plain, sentence
from dashboard.widgets.run_picker import run_title

MAX_SHOWN = 4  # live panels at once
LIVE_POLL_S = 1.0  # a live panel's refresh
FIRST_POINT_POLL_S = 0.25  # ... until its run's first point


def eta_now(progress: dict, now: float | None = None) -> float:
    """The run's ETA less the time since it wrote it (a status is rewritten every second at
    most, and only at logged steps): a countdown between writes, not a frozen figure."""
    written = progress.get("written")
    age = (time.time() if now is None else now) - written if isinstance(written, (int, float)) else 0.0
    return max(0.0, float(progress["eta_s"]) - max(0.0, age))


def progress_text(status: dict) -> str:
    """epoch, step, speed and time left (or taken), as one line."""
    p = status.get("progress") or {}
    parts = [f"epoch {p.get('epoch', 0)}/{p.get('epochs', '?')}",
             f"step {p.get('step', 0):,}/{p.get('total_steps', 0):,}"]
    if p.get("images_per_s"):
        parts.append(f"{p['images_per_s']:,.0f} images/s")
    if status.get("state") == RunState.RUNNING and p.get("eta_s") is not None:
        parts.append(f"ETA {eta_now(p):.0f} s")
    elif p.get("elapsed_s"):
        parts.append(f"{p['elapsed_s']:.0f} s")
    return " · ".join(parts)


def render_state_message(status: dict) -> None:
    """What a finished run's state means, and what to do next."""
    state_name = status.get("state", "?")
    best = status.get("best_metric")
    best_text = f" Best {status.get('monitor')}: {best:.4f} (epoch {status.get('best_epoch')})." \
        if isinstance(best, (int, float)) else ""
    if state_name == RunState.DONE:
        st.success(f"Finished.{best_text}")
    elif state_name == RunState.STOPPED:
        st.info(f"Stopped on request; its checkpoint is saved and it can be resumed.{best_text}")
    elif state_name == RunState.DIVERGED:
        st.error(f"Diverged: the loss blew up, so the run stopped. The best checkpoint from before "
                 f"is kept.{best_text} Try a lower learning rate.")
    elif state_name == RunState.INTERRUPTED:
        st.warning(f"Interrupted: its process is gone (killed or crashed).{best_text} Resume it "
                   "from the Runs page if it saved a checkpoint.")
    elif state_name == RunState.FAILED:
        st.error("Failed: " + plain(status.get("error") or "see log.txt in the run folder"))
    elif state_name == RunState.BROKEN:
        st.error("This run folder cannot be read: " + plain(status.get("error") or "?"))
    for warning in status.get("warnings") or []:  # e.g. accuracy at chance level
        st.warning(sentence(warning))


def metric_records(run: Run) -> list[dict]:
    """Every metric record of the run, read incrementally: the reader lives in the session, so a
    panel ticking every second parses only the lines appended since its last tick."""
    name = state.keyed("train.metrics_reader", run.id)
    reader = state.get(name)
    if reader is None:
        reader = run.metrics_reader()
        state.put(name, reader)
    reader.poll()
    return reader.records


def safe_status(run: Run) -> dict:
    """The run's status; a folder that cannot be read reads as "broken" with the reason."""
    try:
        status = run.status()
        return status if isinstance(status, dict) else {"state": RunState.BROKEN,
                                                         "error": "status.json is not an object"}
    except Exception as exc:  # junk in a run folder must not take the page down
        return {"state": RunState.BROKEN, "error": f"{type(exc).__name__}: {exc}"}


def _stop_button(run: Run, status: dict, col) -> None:
    if run.stop_requested():
        col.button("Stopping…", key=f"stop_{run.id}", disabled=True)
    elif col.button("Stop", key=f"stop_{run.id}"):
        run.request_stop()
        st.toast("Stop requested: the run ends after the current batch.")


def render_live_run(run: Run, smoothing: float, log_y: bool) -> None:
    """Progress and curves, redrawn from the run folder every second while the run is active;
    drawn once when it is not."""
    active = safe_status(run).get("state") in ACTIVE
    # Until the first point the panel looks 4 times a second (a run's first batch comes about a
    # second after Train), then once a second: a whole-page rerun switches it over.
    waiting = active and not metric_records(run)
    try:
        quality = model_kind(run_config(run).model).quality_metric
    except Exception:
        quality = None

    @st.fragment(run_every=(FIRST_POINT_POLL_S if waiting else LIVE_POLL_S) if active else None)
    def panel() -> None:
        status = safe_status(run)
        state_name = status.get("state", "?")
        cols = st.columns([6, 1])
        cols[0].progress(float((status.get("progress") or {}).get("fraction", 0.0) or 0.0),
                         text=f"**{plain(run_title(run))}** · {state_name} · "
                              + progress_text(status))
        if state_name in ACTIVE and not run.read_only:
            _stop_button(run, status, cols[1])
        else:
            render_state_message(status)
        records = metric_records(run)
        curves, answers = st.columns([3, 2])  # the curves beside the model's answers
        with curves:
            if records:
                chart(training_curves_figure(records, smoothing, log_y, quality),
                      key=f"curves_{run.id}")
            elif state_name in ACTIVE:  # no empty axes: the chart appears with its first point
                st.caption("Starting: the curves appear with the first batch.")
        with answers:
            render_probes(run, width=300)
        if (active and state_name not in ACTIVE) or (waiting and records):
            st.rerun()  # the whole page: this panel stops ticking (or slows), the list is redrawn

    panel()


def render_live_runs(store: RunStore) -> None:
    """Runs started here plus any other active run (started elsewhere, or before a reload), each
    live, with the command that runs it from a terminal; guidance when there is none."""
    runs = {r.id: r for r in store.list()}
    gone = {i for i in state.watched_runs() if i not in runs}
    if gone:  # deleted on the Runs page or by hand
        state.forget_runs(gone)
    active = [i for i, r in runs.items() if safe_status(r).get("state") in ACTIVE]
    shown = list(dict.fromkeys(active + state.watched_runs()))[:MAX_SHOWN]
    if not shown:
        st.info("No run yet: choose settings and press Train. Past runs are on the Runs page.")
        return
    cols = st.columns([3, 1])
    with cols[0]:
        smoothing = state.bound(st.slider, "train_smoothing", "train.curve_smoothing", "Smoothing",
                                0.0, 0.99, default=0.6, step=0.01)
    with cols[1]:
        log_y = state.bound(st.toggle, "train_log", "train.log_y", "Log-scale loss", default=False)
    for run_id in shown:
        render_live_run(runs[run_id], smoothing, log_y)
        with st.expander("The same run from a terminal"):
            st.code(" ".join(train_command(runs[run_id])), language="bash")
