"""The Train page's settings form: returns a validated TrainConfig, or shows why not."""
from __future__ import annotations

from dataclasses import fields

import streamlit as st

from core.data.dataset import ImageDataset
from core.errors import UserError
from core.models import MODELS, Kind, build_model
from core.models.losses import LOSSES_BY_KIND
from core.training.config import OPTIMIZERS, SCHEDULES, TrainConfig


def model_picker_ui() -> str:
    """Model choice outside the form, so the form can show the fields that model needs."""
    names = list(MODELS)
    name = st.selectbox("Model", names, key="train_model",
                        format_func=lambda n: f"{MODELS[n].kind.title} · {MODELS[n].title}")
    st.caption(MODELS[name].description)
    return name


def _kind_fields(kind: Kind, ds: ImageDataset) -> dict:
    """Settings that only make sense for this kind of model."""
    out: dict = {"loss_params": {}}
    losses = ["auto", *LOSSES_BY_KIND[kind]]
    out["loss"] = st.selectbox("Loss", losses, help="auto: cross-entropy, MSE or the ELBO")
    if kind.predicts_classes:
        # A one-pixel shift is 1/8 of a digits image and costs accuracy there; it helps from 28 px.
        out["augment"] = st.checkbox("Light augmentation (random shifts)", value=ds.shape[1] >= 28)
        smoothing = st.slider("Label smoothing", 0.0, 0.3, 0.0, 0.05)
        if smoothing and out["loss"] in ("auto", "cross_entropy"):
            out["loss_params"]["label_smoothing"] = smoothing
        return out
    cols = st.columns(2)
    noise = cols[0].selectbox("Denoising", ["none", "gaussian", "mask"],
                              help="Corrupt the inputs, reconstruct the clean images")
    level = cols[1].slider("Noise level", 0.05, 0.9, 0.3, 0.05)
    out["denoise"] = "" if noise == "none" else f"{noise}:{level}"
    if kind.has_elbo:
        out["loss_params"]["beta"] = st.slider("beta (weight of the KL term)", 0.1, 10.0, 1.0, 0.1)
    out["normal_classes"] = tuple(st.multiselect(
        "Normal classes (train on these only)", list(ds.classes),
        help="For anomaly detection: leave the anomaly classes out. Empty = all classes."))
    return out


# Fields the form draws by hand above; every other TrainConfig field gets a generated widget under
# "More settings", so a new training option shows up here without touching this file.
DRAWN = {"dataset", "model", "model_params", "loss", "loss_params", "epochs", "batch_size", "lr",
         "optimizer", "schedule", "patience", "seed", "device", "augment", "denoise",
         "normal_classes", "name"}


def config_field_ui(f, container=st):
    """A widget for one TrainConfig field, from its type, default, help and choices."""
    label = f.name.replace("_", " ").capitalize()
    help_text, choices = f.metadata.get("help"), f.metadata.get("choices")
    key = f"train_more_{f.name}"
    if choices:
        return container.selectbox(label, choices, index=list(choices).index(f.default),
                                   help=help_text, key=key)
    if isinstance(f.default, bool):
        return container.checkbox(label, value=f.default, help=help_text, key=key)
    if isinstance(f.default, int):
        return int(container.number_input(label, value=f.default, step=1, help=help_text, key=key))
    if isinstance(f.default, float):
        return float(container.number_input(label, value=f.default, format="%g", help=help_text,
                                            key=key))
    if isinstance(f.default, tuple):
        text = container.text_input(label, ",".join(f.default), help=help_text, key=key)
        return tuple(v.strip() for v in text.split(",") if v.strip())
    return container.text_input(label, str(f.default), help=help_text, key=key)


def more_settings_ui() -> dict:
    """Every TrainConfig field not drawn by hand, in an expander; returns {field: value}."""
    extra = [f for f in fields(TrainConfig) if f.name not in DRAWN]
    if not extra:
        return {}
    with st.expander("More settings"):
        return {f.name: config_field_ui(f) for f in extra}


def train_form_ui(spec_text: str, ds: ImageDataset, model: str) -> TrainConfig | None:
    """Draw the form; on submit return a config whose model builds on this dataset."""
    kind = MODELS[model].kind
    with st.form("train_form"):
        cols = st.columns(4)
        epochs = cols[0].number_input("Epochs", 1, 1000, 10 if kind.predicts_classes else 20)
        batch = cols[1].selectbox("Batch size", [16, 32, 64, 128, 256, 512], index=2)
        lr = cols[2].number_input("Learning rate", 1e-5, 10.0, 3e-3, format="%.5f")
        optimizer = cols[3].selectbox("Optimizer", OPTIMIZERS)
        cols = st.columns(4)
        schedule = cols[0].selectbox("LR schedule", SCHEDULES, index=SCHEDULES.index("onecycle"))
        patience = cols[1].number_input("Early-stop patience", 0, 100, 0,
                                        help="Epochs without a better validation score; 0 = off")
        seed = cols[2].number_input("Seed", 0, 1_000_000, 0)
        device = cols[3].selectbox("Device", ["auto", "cpu", "cuda", "mps"])
        extra = _kind_fields(kind, ds)
        extra.update(more_settings_ui())
        name = st.text_input("Run name (optional)")
        submitted = st.form_submit_button("Train", type="primary", icon=":material/play_arrow:")
    if not submitted:
        return None
    try:
        config = TrainConfig(dataset=spec_text, model=model, epochs=int(epochs), batch_size=int(batch),
                             lr=float(lr), optimizer=optimizer, schedule=schedule,
                             patience=int(patience), seed=int(seed), device=device, name=name,
                             **extra)
        # Build once here so a model that cannot take these images is refused before launch.
        build_model(model, ds.shape, len(ds.classes), config.model_params,
                    binary_head=config.loss == "bce")
        if config.loss == "bce" and len(ds.classes) != 2:
            raise UserError("binary cross-entropy needs a two-class dataset")
        if len(config.normal_classes) == len(ds.classes):
            raise UserError("every class is normal: leave at least one class out as the anomaly")
    except UserError as exc:
        st.error(f"Not started: {exc}")
        return None
    return config
