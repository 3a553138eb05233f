"""Latent page: the projection the map draws. PCA at once; UMAP and t-SNE start on their own in
background jobs (`python -m core embed`) when the page opens and their result is not cached,
each with a progress bar and a Cancel button, while the map shows PCA until they finish.

DASH_AUTO_PROJECTIONS=0 in the environment stops them starting on their own (a Compute button
remains), for machines where a page view must not start work.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.errors import UserError
from core.latent.methods import PARAMS, Method, form_defaults
from core.latent.projection import (
    cached_projection,
    cancel_background,
    cancel_if_queued,
    job_file,
    job_status,
    projection,
    start_background,
)
from core.runs import jobs
from core.runs.store import Run
from dashboard.sections.latent_space import Space
from dashboard.state import settings
from dashboard.text import plain

TITLES = {Method.PCA: "PCA", Method.UMAP: "UMAP", Method.TSNE: "t-SNE"}
BACKGROUND = (Method.UMAP, Method.TSNE)
DEFAULT_PARAMS = {method: form_defaults(method) for method in Method}
PARAM_KEYS = {"n_neighbors": "latent_neighbours", "perplexity": "latent_perplexity"}  # widget keys
AUTO_START = "DASH_AUTO_PROJECTIONS"


@dataclass
class Projection:
    method: str
    rows: np.ndarray  # dataset rows drawn (all, or a stated sample)
    xy: np.ndarray


def _auto_start() -> bool:
    return os.environ.get(AUTO_START, "1") != "0"


def _projection_method_ui(cols) -> tuple[Method, dict]:
    """The method radio and its parameters' inputs, made from core.latent.methods.PARAMS."""
    method = Method(cols[0].radio("Projection", list(TITLES), format_func=TITLES.get,
                                  horizontal=True, key="latent_method"))
    params = {}
    for p in (p for p in PARAMS[method] if p.in_form):
        value = cols[1].number_input(p.label, p.type(p.low), p.type(p.high), p.type(p.default),
                                     step=p.step, help=p.help,
                                     key=_param_key(p))
        params[p.name] = p.type(value)
    return method, params


def _param_key(p) -> str:
    """The widget key of a method parameter's input."""
    return PARAM_KEYS.get(p.name, f"latent_{p.name}")


def _start(run: Run, cfg, method: Method, drawn: dict) -> None:
    """Start the job with the parameters the inputs hold when the click is handled: a value typed
    just before the click may not have reached the run that drew the button."""
    now = {p.name: p.type(st.session_state.get(_param_key(p), drawn[p.name]))
           for p in PARAMS[method] if p.name in drawn}
    start_background(run, cfg, method, {**drawn, **now})


def _stale(status: dict, run: Run) -> bool:
    """A finished job from before the run's checkpoint changed (its result keys elsewhere)."""
    try:
        return status.get("started", 0) < run.checkpoint("best").stat().st_mtime
    except OSError:
        return False


def _draw_progress(run: Run, chosen: dict[Method, dict], live: bool) -> None:
    """A progress bar and Cancel button per running job; the page reruns when one ends (so a
    finished projection is drawn, a failed one explained)."""
    cfg = settings()
    drawn = False
    for method, params in chosen.items():
        status = job_status(run, cfg, method, params, reader=True) or {}
        if status.get("state") != jobs.JOB_RUNNING:
            if st.session_state.get(f"latent_job_{method}") == jobs.JOB_RUNNING:
                st.session_state[f"latent_job_{method}"] = status.get("state")
                st.rerun(scope="app")
            continue
        st.session_state[f"latent_job_{method}"] = jobs.JOB_RUNNING
        if not drawn:
            st.markdown("**Background projections**")
            drawn = True
        elapsed = time.time() - status.get("started", time.time())
        st.progress(float(status.get("fraction", 0.0)),
                    text=f"{TITLES[method]}: {status.get('stage', 'starting')} · {elapsed:.0f} s")
        st.button(f"Cancel {TITLES[method]}", key=f"latent_cancel_{method}",
                  on_click=cancel_background, args=(run, cfg, method, params),
                  help=f"Stops the background {TITLES[method]} process; the map stays on PCA.")
    if drawn and not live:
        st.caption("Choose one as the projection to follow it live and see it drawn when done.")


# A rerun every second while the map waits for the chosen projection; otherwise every 10 s, which
# also tells the jobs someone still reads them (a job nobody reads cancels itself).
_render_ticking = st.fragment(run_every=1)(_draw_progress)
_render_once = st.fragment(run_every=10)(_draw_progress)
SEEN = "latent_jobs_seen"  # {run id: job files this session showed}


def _cancel_other_runs_queued(run: Run, chosen: dict[Method, dict]) -> None:
    """Switching runs cancels the old run's projections still waiting their turn: nobody will
    look at them (one being computed finishes, or gives up when nobody reads it)."""
    seen = st.session_state.setdefault(SEEN, {})
    for other, files in list(seen.items()):
        if other != run.id:
            for path in files:
                cancel_if_queued(path)
            del seen[other]
    seen[run.id] = [job_file(run, settings(), m, p) for m, p in chosen.items()]


def _background_jobs(space: Space, method: Method, params: dict) -> dict[Method, dict]:
    """Start UMAP and t-SNE (the chosen one with its parameters, the other with defaults) unless
    cached, running, or stopped by the user; returns {method: params} of those not cached."""
    run, cfg = space.run, settings()
    pending = {}
    for m in BACKGROUND:
        p = params if m == method else DEFAULT_PARAMS[m]
        if cached_projection(run, cfg, m, p, space.features) is not None:
            continue
        pending[m] = p
        status = job_status(run, cfg, m, p, reader=True)
        if _auto_start() and (status is None or (status.get("state") == jobs.JOB_DONE
                                                 and _stale(status, run))):
            start_background(run, cfg, m, p)
    return pending


def load_projection_or_stop(space: Space) -> Projection:
    """The chosen projection: PCA at once; UMAP/t-SNE from the cache, else PCA meanwhile with
    the background jobs' progress. A user error stops the page."""
    cols = st.columns([2, 1, 3], vertical_alignment="bottom")
    method, params = _projection_method_ui(cols)
    run, cfg = space.run, settings()
    try:
        with st.spinner("PCA…"):
            rows, xy, _ = projection(run, cfg, Method.PCA, {}, space.features)
        pca = Projection(Method.PCA, rows, xy)
        pending = _background_jobs(space, method, params)
        found = None if method == Method.PCA else cached_projection(run, cfg, method, params,
                                                                   space.features)
    except UserError as exc:
        st.error(plain(exc))
        st.stop()
    _cancel_other_runs_queued(run, pending)
    if pending:  # in the sidebar: above the map, bars coming and going moved it under the pointer
        waiting = method in pending and found is None
        with st.sidebar:
            (_render_ticking if waiting else _render_once)(run, pending, waiting)
    if found is not None:
        return Projection(method, *found)
    if method == Method.PCA:
        return pca
    title = TITLES[method]
    status = job_status(run, cfg, method, params) or {}
    if status.get("state") != jobs.JOB_RUNNING:
        if status.get("state") == jobs.JOB_FAILED:
            cols[2].error(f"{title} failed: {status.get('error')}")
        elif status.get("state") == jobs.JOB_CANCELLED:
            cols[2].info(f"{title} was cancelled.")
        cols[2].button(f"Compute {title} in the background", key="latent_compute",
                       on_click=_start, args=(run, cfg, method, params),
                       help="Runs `python -m core embed` in its own process and caches the result; "
                            "the page stays usable meanwhile.")
    st.caption(f"Showing PCA until {title} is computed (progress in the sidebar); it is cached, so "
               "it is instant next time.")
    return pca
