"""Sweep: a family of runs defined once (base config + axes), run in the background within the
thread budget, and compared by what differs. While it runs the view redraws every two seconds."""
import streamlit as st

from core.sweeps.study import list_sweeps
from dashboard import state, url
from dashboard.sections import sweep_results as sections
from dashboard.sections.sweep_define import render_define
from dashboard.text import plain

st.title("Sweep")
sweeps = {s.id: s for s in list_sweeps(state.settings().workspace)}
with st.expander("New sweep", expanded=not sweeps):
    started = render_define()
if started:
    state.put("sweep.selected", started)
    st.rerun()
if not sweeps:
    st.info("No sweep yet: define one above (the axes say which options vary).")
    st.stop()
if url.peek("sweep") in sweeps:
    state.put("sweep.selected", url.take("sweep"))
chosen = state.bound(st.selectbox, "sweep_selected", "sweep.selected", "Sweep", list(sweeps),
                     default=next(iter(sweeps)), valid=lambda v: v in sweeps,
                     format_func=lambda i: f"{sweeps[i].name or i} · {sweeps[i].search} · "
                                           f"{sweeps[i].n_trials} trials")
url.show(sweep=chosen)
sweep = sweeps[chosen]
st.caption("Axes: " + plain("; ".join(
    f"{a.name} = {', '.join(map(str, a.values)) if a.values else f'{a.low}..{a.high}'}"
    for a in sweep.all_axes)) + f" · metric {sweep.metric} · pruning {sweep.pruner}")


def draw() -> None:
    rows = sections.trial_rows(sweep)
    if rows is None:
        return
    sections.render_progress(sweep, rows)
    sections.render_results(sweep, rows)
    if state.get("sweep.ticking") and not sections.is_active(sweep, rows):
        state.put("sweep.ticking", False)
        st.rerun()  # the sweep ended: redraw once without the timer


rows = sections.trial_rows(sweep) or []
ticking = sections.is_active(sweep, rows)
state.put("sweep.ticking", ticking)
st.fragment(draw, run_every=2.0 if ticking else None)()
