"""The Sweep page's form: base config, axes, search; a live count of trials and wall time."""
from __future__ import annotations

import streamlit as st

from core.errors import UserError
from core.sweeps import estimate
from core.sweeps.axes import Search
from core.sweeps.define import from_form
from core.sweeps.study import CONFIRM_ABOVE, Pruner, affordable_trials, save_new
from core.sweeps.worker import default_parallel, start_worker
from dashboard import state
from dashboard.text import sentence

DEFAULT_AXES = "model=mlp,default_cnn\nlr=0.001,0.003"


@st.cache_data(show_spinner=False, max_entries=16)
def _train_images(spec: str) -> int:
    from core.data.dataset import load_dataset

    return len(load_dataset(spec).indices("train"))


def _models() -> list[str]:
    from core.models import MODELS

    return list(MODELS)


def render_define() -> str | None:
    """The form; returns the id of a sweep it started, else None."""
    cols = st.columns(3)
    dataset = state.bound(cols[0].text_input, "sweep_dataset", "sweep.dataset", "Dataset",
                          default=state.get_spec().to_text())
    models = _models()
    model = state.bound(cols[1].selectbox, "sweep_model", "sweep.model", "Base model", models,
                        default="mlp", valid=lambda v: v in models)
    epochs = state.bound(cols[2].number_input, "sweep_epochs", "sweep.epochs", "Epochs", 1, 1000,
                         default=2)
    axes_text = state.bound(st.text_area, "sweep_axes", "sweep.axes",
                            "Axes: one per line, NAME=V1,V2 (random/TPE also NAME=LOW..HIGH)",
                            default=DEFAULT_AXES, height=110,
                            help="any training option (lr, model, batch_size, epochs, seed, "
                                 "augment...), param.NAME for the model, data.size / data.steps "
                                 "/ data.classes for the dataset")
    cols = st.columns(6)
    search = state.bound(cols[0].selectbox, "sweep_search", "sweep.search", "Search",
                         [s.value for s in Search], default="grid")
    trials = state.bound(cols[1].number_input, "sweep_trials", "sweep.trials", "Trials", 1, 100_000,
                         default=12, disabled=search == Search.GRID, help="random and TPE only")
    repeats = state.bound(cols[2].number_input, "sweep_repeats", "sweep.repeats", "Seeds", 1, 100,
                          default=1, help="repeat each point over this many seeds")
    prune = state.bound(cols[3].selectbox, "sweep_prune", "sweep.prune", "Pruning",
                        [p.value for p in Pruner], default="none")
    parallel = state.bound(cols[4].number_input, "sweep_parallel", "sweep.parallel", "At once", 0, 64,
                           default=0, help=f"0 = automatic ({default_parallel()} here)")
    budget = state.bound(cols[5].number_input, "sweep_budget", "sweep.epoch_budget", "Epoch budget", 0,
                         10**6, default=0, disabled=search == Search.GRID,
                         help="random and TPE: epochs all trials together may train (0 = no limit); "
                              "a point proposed again is not trained twice")
    try:
        sweep = from_form({"dataset": dataset, "model": model, "epochs": int(epochs)}, axes_text,
                          search, int(trials), int(repeats), prune, int(parallel),
                          epoch_budget=0 if search == Search.GRID else int(budget))
    except UserError as exc:
        st.error(sentence(str(exc)))
        return None
    try:
        n_train = _train_images(sweep.base["dataset"])
    except UserError as exc:
        st.error(sentence(str(exc)))
        return None
    ips = estimate.measured_images_per_s(_store(), sweep.base["model"])
    trained = affordable_trials(sweep)
    seconds = estimate.wall_seconds(trained, int(epochs), n_train, ips, sweep.parallel or default_parallel())
    within = f" within {sweep.epoch_budget:,} epochs ({trained:,} trained in full)" if sweep.epoch_budget else ""
    st.caption(f"**{sweep.n_trials:,} trials**{within}, about {estimate.describe(seconds)} on "
               f"{estimate.cores()} cores ({sweep.parallel or default_parallel()} at once, "
               + (f"{ips:,.0f} images/s measured)" if ips else "no speed measured here yet)"))
    confirmed = True
    if sweep.n_trials > CONFIRM_ABOVE:
        st.warning(f"{sweep.n_trials:,} trials is a long sweep (about {estimate.describe(seconds)}).")
        confirmed = st.checkbox("Run them anyway", key="sweep_confirm")
    if not st.button("Start sweep", type="primary", disabled=not confirmed, key="sweep_start"):
        return None
    try:
        saved = save_new(state.settings().workspace, sweep)
        start_worker(state.settings(), saved.id)
    except UserError as exc:
        st.error(sentence(str(exc)))
        return None
    return saved.id


def _store():
    from core.runs.store import open_store

    return open_store(state.settings())
