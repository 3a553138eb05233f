"""Every model the dashboard can train, by name: generic families and the seed projects' presets.

Presets are ordinary entries whose default_params fix the architecture; a user's params override
them. build_model turns bad names and params into UserError listing what is valid.
"""
from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from core.errors import UserError
from core.models.autoencoders import VAE, ConvAutoencoder, MLPAutoencoder
from core.models.classifiers import CNNClassifier, MLPClassifier, default_cnn
from core.models.kinds import Kind
from core.models.layers import check_in_shape


@dataclass(frozen=True)
class ModelInfo:
    name: str
    kind: Kind
    title: str
    description: str
    builder: Callable[..., nn.Module]
    default_params: dict[str, Any]


def _builder_params(builder: Callable[..., nn.Module]) -> dict[str, Any]:
    """The builder's keyword params and defaults, minus the shape/output arguments."""
    skip = {"self", "in_shape", "n_outputs"}
    return {
        name: p.default
        for name, p in inspect.signature(builder).parameters.items()
        if name not in skip
    }


def _entry(name: str, kind: Kind, title: str, description: str, builder, **preset) -> ModelInfo:
    defaults = _builder_params(builder)
    assert set(preset) <= set(defaults), f"{name}: preset params {set(preset) - set(defaults)}"
    return ModelInfo(name, kind, title, description, builder, {**defaults, **preset})


# The Kuzushiji-49 comparison names its 12 variants but not their sizes; these are the usual Keras choices for
# "1 / 2 / dense" at 28x28 (SGD vs Adam is the optimizer, set in the training config).
_ENTRIES = [
    _entry("default_cnn", Kind.CLASSIFIER, "Default CNN",
           "Recommended: conv-bn-relu x2 blocks, global average pool, dropout; fast on CPU.", default_cnn),
    _entry("mlp", Kind.CLASSIFIER, "MLP (custom)", "Fully connected classifier; choose the hidden layers.",
           MLPClassifier),
    _entry("cnn", Kind.CLASSIFIER, "CNN (custom)", "Conv blocks then dense layers; choose every size.",
           CNNClassifier),
    _entry("NN_1", Kind.CLASSIFIER, "NN_1", "Kuzushiji-49: one hidden layer of 128.",
           MLPClassifier, hidden=(128,)),
    _entry("NN_2", Kind.CLASSIFIER, "NN_2", "Kuzushiji-49: two hidden layers, 256 and 128.",
           MLPClassifier, hidden=(256, 128)),
    _entry("NN_dense", Kind.CLASSIFIER, "NN_dense",
           "Kuzushiji-49: four hidden layers, 512-512-256-128.",
           MLPClassifier, hidden=(512, 512, 256, 128)),
    _entry("NN_dense_batchnorm", Kind.CLASSIFIER, "NN_dense + batchnorm",
           "Kuzushiji-49: NN_dense with batch normalisation after each layer.",
           MLPClassifier, hidden=(512, 512, 256, 128), batchnorm=True),
    _entry("CNN_1", Kind.CLASSIFIER, "CNN_1", "Kuzushiji-49: one conv block of 32, dense 128.",
           CNNClassifier, channels=(32,), dense=(128,)),
    _entry("CNN_2", Kind.CLASSIFIER, "CNN_2", "Kuzushiji-49: conv blocks of 32 and 64, dense 128.",
           CNNClassifier, channels=(32, 64), dense=(128,)),
    _entry("CNN_dense", Kind.CLASSIFIER, "CNN_dense",
           "Kuzushiji-49: conv blocks 32-64-128, dense 256-128.",
           CNNClassifier, channels=(32, 64, 128), dense=(256, 128)),
    _entry("CNN_dense_batchnorm", Kind.CLASSIFIER, "CNN_dense + batchnorm",
           "Kuzushiji-49: CNN_dense with batch normalisation after each layer.",
           CNNClassifier, channels=(32, 64, 128), dense=(256, 128), batchnorm=True),
    _entry("lenet", Kind.CLASSIFIER, "LeNet-style CNN",
           "The classic MNIST CNN: 5x5 convs of 32 and 64, dense 128, dropout 0.5.",
           CNNClassifier, channels=(32, 64), kernel=5, dense=(128,), dropout=0.5),
    _entry("clocks_cnn", Kind.CLASSIFIER, "Three-block CNN",
           "Three conv+pool+relu blocks of 16, 32 and 64, dense 128 and 32; sized for 32x32 photos.",
           CNNClassifier, channels=(16, 32, 64), dense=(128, 32)),
    _entry("mlp_ae", Kind.AUTOENCODER, "MLP autoencoder",
           "Fully connected: linear layers of 512 and 256 down to a 128-d code, mirrored decoder.",
           MLPAutoencoder),
    _entry("conv_ae", Kind.AUTOENCODER, "Conv autoencoder",
           "Strided convs of 32 and 64 to a 128-d code, transposed convs back.", ConvAutoencoder),
    _entry("vae", Kind.VAE, "Variational autoencoder",
           "Conv variational autoencoder with a 16-d latent; scores include the ELBO.", VAE),
]
MODELS: dict[str, ModelInfo] = {info.name: info for info in _ENTRIES}


def register(name: str, kind: Kind, title: str, description: str, builder, **preset) -> ModelInfo:
    """Add a model: builder(in_shape, [n_outputs,] **params) -> nn.Module (see CONTRIBUTING.md)."""
    if name in MODELS:
        raise ValueError(f"a model named {name!r} is registered already")
    MODELS[name] = info = _entry(name, Kind(kind), title, description, builder, **preset)
    return info


def _discover() -> None:
    """Import every other module of core.models: a file there may register() its models."""
    import importlib
    import pkgutil

    import core.models as package

    infrastructure = {"registry", "kinds", "layers", "losses", "output", "classifiers", "autoencoders"}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name not in infrastructure and not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")


def get_model_info(name: str) -> ModelInfo:
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), MODELS, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UserError(f"unknown model {name!r}{hint}; models: {', '.join(MODELS)}") from None


def model_kind(name: str) -> Kind:
    """The Kind of a registered model."""
    return get_model_info(name).kind


# What a model may ask for before anything is built: weights (Adam keeps three more copies, so
# 64 M parameters are ~1 GB while training) and values computed per image by all layers (held for
# the backward pass: 8 M per image are 32 MB, 2 GB at batch 64).
MAX_PARAMETERS = 64_000_000
MAX_ACTIVATIONS_PER_IMAGE = 8_000_000
# Training memory, estimated before building: weights, gradients and Adam's two moments (16 bytes
# a parameter) plus every layer's output for a batch, kept for the backward pass, and its gradient
# (8 bytes a value). `cnn` with channels=[20000] on digits at batch 64 would need ~1.7 GB (it
# took 2.2 GB of memory when it trained).
MAX_TRAINING_BYTES = 3 << 29  # 1.5 GiB
MAX_PARAM_INT = 1 << 24  # any single size a parameter gives (a layer's width, a kernel)
MAX_PARAM_ITEMS = 64  # entries in a list parameter (layers)


@dataclass(frozen=True)
class ModelSize:
    parameters: int
    activations_per_image: int  # values every layer outputs for one image (forward pass)


def _check_param_values(name: str, params: dict[str, Any]) -> None:
    """Refuse sizes no model here could build in bounded memory, before any builder runs."""
    for key, value in params.items():
        items = value if isinstance(value, (list, tuple)) else [value]
        if len(items) > MAX_PARAM_ITEMS:
            raise UserError(f"model {name!r}: {key} lists {len(items):,} entries; "
                            f"the limit is {MAX_PARAM_ITEMS}")
        for v in items:
            if isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) > MAX_PARAM_INT:
                raise UserError(f"model {name!r}: {key} asks for {v:,}, more than the limit of "
                                f"{MAX_PARAM_INT:,} for one size")


def _outputs_numel(output) -> int:
    if isinstance(output, torch.Tensor):
        return output.numel()
    if isinstance(output, (tuple, list)):
        return sum(_outputs_numel(o) for o in output)
    if isinstance(output, dict):
        return sum(_outputs_numel(o) for o in output.values())
    return sum(_outputs_numel(v) for v in getattr(output, "__dict__", {}).values())


def measure_model(name: str, in_shape, n_classes: int, params: dict[str, Any] | None = None,
                  binary_head: bool = False, batch_size: int | None = None) -> ModelSize:
    """Parameter count and per-image activations of the model build_model would make, found on
    torch's "meta" device (shapes only, no memory); a UserError stating the limit and the
    requested size when it is over MAX_PARAMETERS or MAX_ACTIVATIONS_PER_IMAGE, or (given the
    training batch size) when training it would need more than MAX_TRAINING_BYTES."""
    info, in_shape, args, merged = _resolve(name, in_shape, n_classes, params, binary_head)
    try:
        with torch.device("meta"):
            model = info.builder(*args, **merged)
    except ValueError as exc:
        raise UserError(f"model {name!r}: {exc}") from None
    n_params = count_parameters(model)
    if n_params > MAX_PARAMETERS:
        raise UserError(f"model {name!r} would have {n_params:,} parameters; the limit is "
                        f"{MAX_PARAMETERS:,}: choose smaller layers")
    total = [0]

    def hook(_module, _inputs, output) -> None:
        total[0] += _outputs_numel(output)

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            model.eval()(torch.empty(1, *in_shape, device="meta"))
    except (NotImplementedError, RuntimeError):  # an op without a meta kernel: parameters only
        total[0] = 0
    finally:
        for h in handles:
            h.remove()
    if total[0] > MAX_ACTIVATIONS_PER_IMAGE:
        raise UserError(f"model {name!r} would compute {total[0]:,} values per image "
                        f"({total[0] * 4 / 2**20:,.0f} MiB); the limit is {MAX_ACTIVATIONS_PER_IMAGE:,}: "
                        "choose fewer channels or smaller layers")
    if batch_size is not None:
        need = n_params * 16 + total[0] * int(batch_size) * 8
        if need > MAX_TRAINING_BYTES:
            raise UserError(f"training model {name!r} at batch size {batch_size} would need about "
                            f"{need / 2**30:,.1f} GiB ({n_params:,} parameters, {total[0]:,} values per "
                            f"image); the limit is {MAX_TRAINING_BYTES / 2**30:g} GiB: choose smaller "
                            "layers or a smaller batch")
    return ModelSize(n_params, total[0])


def _resolve(name, in_shape, n_classes, params, binary_head):
    """(info, checked in_shape, positional args, merged params) for a builder call."""
    info = get_model_info(name)
    params = dict(params or {})
    unknown = sorted(set(params) - set(info.default_params))
    if unknown:
        raise UserError(
            f"model {name!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters: {', '.join(info.default_params) or 'none'}"
        )
    try:
        in_shape = check_in_shape(tuple(in_shape))
    except (TypeError, ValueError) as exc:
        raise UserError(f"model {name!r}: {exc}") from None
    args: list[Any] = [in_shape]
    if info.kind.predicts_classes:
        if binary_head and n_classes != 2:
            raise UserError(f"a binary head needs exactly 2 classes, the data has {n_classes}")
        if n_classes < 2:
            raise UserError(f"a classifier needs at least 2 classes, the data has {n_classes}")
        args.append(1 if binary_head else n_classes)
    _check_param_values(name, params)
    return info, in_shape, args, {**info.default_params, **params}


def build_model(
    name: str,
    in_shape: tuple[int, int, int],
    n_classes: int,
    params: dict[str, Any] | None = None,
    binary_head: bool = False,
    batch_size: int | None = None,
) -> nn.Module:
    """A fresh model for images of `in_shape` (C, H, W); params override the entry's defaults.

    Classifiers get n_classes outputs, or 1 with binary_head (for the "bce" loss, 2 classes only);
    autoencoders ignore n_classes. Its size is bounded first (measure_model), so a config, a form
    or a checkpoint asking for a huge model is refused before any memory is taken.
    """
    measure_model(name, in_shape, n_classes, params, binary_head, batch_size)
    info, in_shape, args, merged = _resolve(name, in_shape, n_classes, params, binary_head)
    try:
        return info.builder(*args, **merged)
    except ValueError as exc:
        raise UserError(f"model {name!r}: {exc}") from None


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


_discover()
