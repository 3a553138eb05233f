"""The Train page's settings: every widget seeded from the session model, a TrainConfig built on
each run, and the reasons it cannot train (the Train button is disabled while there are any)."""
from __future__ import annotations

from dataclasses import fields

import streamlit as st

from core.data.dataset import ImageDataset
from core.errors import UserError
from core.models import MODELS, Kind
from core.models.losses import LOSSES_BY_KIND
from core.runs.store import open_store
from core.training.config import OPTIMIZERS, SCHEDULES, TrainConfig
from core.training.preflight import training_problems
from dashboard import state, url
from dashboard.text import plain
from dashboard.widgets.architecture import architecture_ui

SCHEDULE_TITLES = {"none": "constant", "cosine": "cosine", "step": "step", "onecycle": "one-cycle"}


def model_picker_ui() -> str:
    """Model choice; the fields below follow the model's kind."""
    names = list(MODELS)
    if not state.has("train.model") and url.peek("model") in MODELS:
        state.put("train.model", url.take("model"))
    name = state.bound(st.selectbox, "train_model", "train.model", "Model", names,
                       default="default_cnn", valid=lambda n: n in MODELS,
                       format_func=lambda n: f"{MODELS[n].kind.title} · {MODELS[n].title}")
    st.caption(MODELS[name].description)
    url.show(model=name)
    return name


def _kind_fields(kind: Kind, ds: ImageDataset) -> dict:
    """Settings that only make sense for this kind of model."""
    out: dict = {"loss_params": {}}
    losses = ["auto", *LOSSES_BY_KIND[kind]]
    out["loss"] = state.bound(st.selectbox, "train_loss", state.keyed("train.loss", kind), "Loss",
                              losses, default="auto", valid=lambda v: v in losses,
                              help="auto: cross-entropy, MSE or the ELBO")
    if kind.predicts_classes:
        # A one-pixel shift is 1/8 of a digits image and costs accuracy there; it helps from 28 px.
        out["augment"] = state.bound(st.checkbox, "train_augment", "train.augment",
                                     "Light augmentation (random shifts)",
                                     default=ds.shape[1] >= 28)
        smoothing = state.bound(st.slider, "train_smoothing_label", "train.label_smoothing",
                                "Label smoothing", 0.0, 0.3, default=0.0, step=0.05)
        if smoothing and out["loss"] in ("auto", "cross_entropy"):
            out["loss_params"]["label_smoothing"] = smoothing
        return out
    cols = st.columns(2)
    with cols[0]:
        noise = state.bound(st.selectbox, "train_noise", "train.noise", "Denoising",
                            ["none", "gaussian", "mask"], default="none",
                            help="Corrupt the inputs, reconstruct the clean images")
    with cols[1]:
        level = state.bound(st.slider, "train_noise_level", "train.noise_level", "Noise level",
                            0.05, 0.9, default=0.3, step=0.05)
    out["denoise"] = "" if noise == "none" else f"{noise}:{level}"
    if kind.has_elbo:
        out["loss_params"]["beta"] = state.bound(
            st.slider, "train_beta", "train.beta", "beta (weight of the KL term)", 0.1, 10.0,
            default=1.0, step=0.1)
    classes = list(ds.classes)
    out["normal_classes"] = tuple(state.bound(
        st.multiselect, "train_normal", state.keyed("train.normal", ds.spec.to_text()),
        "Normal classes (train on these only)", classes, default=[],
        valid=lambda v: all(c in classes for c in v),
        help="For anomaly detection: leave the anomaly classes out. Empty = all classes."))
    return out


# Fields the form draws by hand; every other TrainConfig field gets a generated widget under
# "More settings", so a new training option shows up here without touching this file.
DRAWN = {"dataset", "model", "model_params", "loss", "loss_params", "epochs", "batch_size", "lr",
         "optimizer", "schedule", "patience", "seed", "device", "augment", "denoise",
         "normal_classes", "name", "sweep"}


def config_field_ui(f):
    """A widget for one TrainConfig field, from its type, default, help and choices."""
    label = f.name.replace("_", " ").capitalize()
    help_text, choices = f.metadata.get("help"), f.metadata.get("choices")
    key, name = f"train_more_{f.name}", f"train.more.{f.name}"
    if choices:
        return state.bound(st.selectbox, key, name, label, choices, default=f.default,
                           help=help_text)
    if isinstance(f.default, bool):
        return state.bound(st.checkbox, key, name, label, default=f.default, help=help_text)
    if isinstance(f.default, int):
        return int(state.bound(st.number_input, key, name, label, default=f.default, step=1,
                               help=help_text))
    if isinstance(f.default, float):
        return float(state.bound(st.number_input, key, name, label, default=f.default,
                                 format="%g", help=help_text))
    if isinstance(f.default, tuple):
        text = state.bound(st.text_input, key, name, label, default=",".join(f.default),
                           help=help_text)
        return tuple(v.strip() for v in text.split(",") if v.strip())
    return state.bound(st.text_input, key, name, label, default=str(f.default), help=help_text)


def more_settings_ui() -> dict:
    """Every TrainConfig field not drawn by hand, in an expander; returns {field: value}."""
    extra = [f for f in fields(TrainConfig) if f.name not in DRAWN]
    if not extra:
        return {}
    with st.expander("More settings"):
        return {f.name: config_field_ui(f) for f in extra}


def _basics_ui(kind: Kind) -> dict:
    """Epochs, batch, learning rate, optimizer, schedule, patience, seed and device: 3 a row, so
    no choice is cut short."""
    rows = [st.columns(3), st.columns(3), st.columns(3)]
    with rows[0][0]:
        epochs = state.bound(st.number_input, "train_epochs", state.keyed("train.epochs", kind),
                             "Epochs", 1, 1000, default=10 if kind.predicts_classes else 20)
    with rows[0][1]:
        batch = state.bound(st.selectbox, "train_batch", "train.batch", "Batch size",
                            [16, 32, 64, 128, 256, 512], default=64)
    with rows[0][2]:
        lr = state.bound(st.number_input, "train_lr", "train.lr", "Learning rate", 1e-5, 10.0,
                         default=3e-3, format="%.5f")
    with rows[1][0]:
        optimizer = state.bound(st.selectbox, "train_optimizer", "train.optimizer", "Optimizer",
                                list(OPTIMIZERS), default="adam")
    with rows[1][1]:
        schedule = state.bound(st.selectbox, "train_schedule", "train.schedule", "LR schedule",
                               list(SCHEDULES), default="onecycle",
                               format_func=lambda s: SCHEDULE_TITLES.get(s, s))
    with rows[1][2]:
        patience = state.bound(st.number_input, "train_patience", "train.patience",
                               "Early-stop patience", 0, 100, default=0,
                               help="Epochs without a better validation score; 0 = off")
    with rows[2][0]:
        seed = state.bound(st.number_input, "train_seed", "train.seed", "Seed", 0, 1_000_000,
                           default=0)
    with rows[2][1]:
        device = state.bound(st.selectbox, "train_device", "train.device", "Device",
                             ["auto", "cpu", "cuda", "mps"], default="auto")
    return dict(epochs=int(epochs), batch_size=int(batch), lr=float(lr), optimizer=optimizer,
                schedule=schedule, patience=int(patience), seed=int(seed), device=device)


def fresh_name(name: str, taken: set[str]) -> str:
    """name, or name-2, name-3, ... (counting on from a number it already ends with): the first
    not in taken."""
    stem, _, number = name.rpartition("-")
    if stem and number.isascii() and number.isdigit() and len(number) < 7:
        base, n = stem, int(number) + 1
    else:
        base, n = name, 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _taken_names() -> set[str]:
    names = set()
    for run in open_store(state.settings()).list():
        try:
            names.add(run.name())
        except Exception:  # a broken run folder is the Runs page's business
            continue
    return names


@st.cache_data(max_entries=64, show_spinner=False)
def _problems(config_json: str, spec_text: str, _ds: ImageDataset) -> list[str]:
    # Building the model is the slow part; cached per settings and dataset.
    return training_problems(TrainConfig.from_json(config_json), _ds)


def train_form_ui(spec_text: str, ds: ImageDataset, model: str) -> tuple[TrainConfig | None,
                                                                          list[str]]:
    """Draw the settings; return the config (None if the settings themselves are invalid) and
    every reason it cannot train on this dataset."""
    kind = MODELS[model].kind
    basics = _basics_ui(kind)
    params, param_problems = architecture_ui(model)
    extra = _kind_fields(kind, ds)
    extra.update(more_settings_ui())
    taken = _taken_names()
    typed = state.get("train.name", "")
    if typed and typed.strip() in taken:  # e.g. the run just started: propose the next name
        state.put("train.name", fresh_name(typed.strip(), taken))
    name = state.bound(st.text_input, "train_name", "train.name", "Run name (optional)",
                       default="", help="Names already used get a number added, so two runs "
                       "never share one.")
    if typed and name != typed:
        st.caption(f"{plain(typed)} is taken: proposed {plain(name)}.")
    try:
        config = TrainConfig(dataset=spec_text, model=model, model_params=params, name=name,
                             **basics, **extra)
    except UserError as exc:
        return None, [*param_problems, str(exc)]
    if param_problems:
        return config, param_problems
    return config, _problems(config.to_json(), spec_text, ds)
