"""Building blocks and argument checks shared by every model family."""
from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

from torch import nn


def check_in_shape(in_shape: Sequence[int]) -> tuple[int, int, int]:
    """(C, H, W) as positive ints, or ValueError saying what is wrong."""
    ok = len(in_shape) == 3 and all(isinstance(v, Integral) and not isinstance(v, bool) for v in in_shape)
    if not ok or min(in_shape) < 1:
        raise ValueError(f"in_shape must be three positive ints (C, H, W), got {tuple(in_shape)}")
    channels, height, width = (int(v) for v in in_shape)  # numpy ints from array shapes too
    return channels, height, width


def positive_ints(value, name: str, allow_empty: bool = True) -> tuple[int, ...]:
    """A layer-size list (JSON gives lists, code gives tuples) as a tuple of positive ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"{name} must be a list of positive ints, got {value!r}")
    sizes = tuple(value)
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in sizes):
        raise ValueError(f"{name} must be a list of positive ints, got {list(sizes)}")
    if not sizes and not allow_empty:
        raise ValueError(f"{name} needs at least one entry")
    return sizes


def positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def check_dropout(dropout: float) -> float:
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
    return float(dropout)


def dense_stack(in_features: int, sizes: Sequence[int], batchnorm: bool, dropout: float) -> nn.Sequential:
    """[Dropout] -> Linear -> [BatchNorm1d] -> ReLU for each size (dropout feeds every Linear).

    BatchNorm1d cannot train on a batch of one image: trainers should drop such a last batch.
    """
    layers: list[nn.Module] = []
    for size in sizes:
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(in_features, size))
        if batchnorm:
            layers.append(nn.BatchNorm1d(size))
        layers.append(nn.ReLU(inplace=True))
        in_features = size
    return nn.Sequential(*layers)


def output_layer(in_features: int, n_outputs: int, dropout: float) -> nn.Sequential:
    n_outputs = positive_int(n_outputs, "n_outputs")
    layers: list[nn.Module] = [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(*layers, nn.Linear(in_features, n_outputs))
