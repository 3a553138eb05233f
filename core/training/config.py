"""The training config: one dataclass drives a run, its JSON record and the CLI flags.

Each field carries its help text and choices (nanoGPT's habit), and `python -m core train`
gets one flag per field from them, so a new training option is one field here.
"""
from __future__ import annotations

import argparse
import json
import math
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from core.errors import UserError
from core.io.files import MAX_JSON_DEPTH, check_depth, json_depth

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("none", "cosine", "step", "onecycle")
DEVICES = ("auto", "cpu", "cuda", "mps")
DENOISE_KINDS = ("gaussian", "mask")
PRECISIONS = ("fp32", "bf16")


def option(default: Any = MISSING, *, help: str, choices: tuple = (), flag: str = "",
           factory: Any = MISSING) -> Any:
    """A config field with what its CLI flag and the Train form need to know."""
    meta = {"help": help, "choices": tuple(choices), "flag": flag}
    if factory is not MISSING:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    dataset: str = option("digits", help="dataset spec, e.g. digits or 'mnist?root=data'")
    model: str = option("default_cnn", help="model name (python -m core models)")
    model_params: dict = option(factory=dict, flag="param",
                                help="model parameter name=value, e.g. hidden=[128] (repeatable)")
    loss: str = option("auto", help="auto: cross_entropy / mse / elbo by model kind")
    loss_params: dict = option(factory=dict, flag="loss-param",
                               help="loss option name=value, e.g. beta=0.5 (repeatable)")
    optimizer: str = option("adam", help="optimizer", choices=OPTIMIZERS)
    lr: float = option(3e-3, help="learning rate (the peak, with onecycle)")
    momentum: float = option(0.9, help="SGD momentum")
    weight_decay: float = option(0.0, help="weight decay")
    schedule: str = option("onecycle", help="learning-rate schedule", choices=SCHEDULES)
    batch_size: int = option(64, help="images per step (the global batch under DDP)")
    epochs: int = option(10, help="passes over the training images")
    patience: int = option(0, help="epochs without a better validation metric before stopping; "
                                   "0 = never")
    augment: bool = option(False, help="classifiers: random shifts of up to 1/8 of the side")
    denoise: str = option("", help="autoencoders: corrupt inputs, not targets: gaussian:0.3 or "
                                   "mask:0.3")
    normal_classes: tuple[str, ...] = option((), help="anomaly training: train and validate on "
                                                      "these classes only (comma-separated)")
    seed: int = option(0, help="seed for weights, shuffling and noise")
    device: str = option("auto", help="where to train", choices=DEVICES)
    log_every: int = option(10, help="steps between train-loss points on the live curve")
    precision: str = option("fp32", choices=PRECISIONS,
                            help="bf16: forward and loss under bfloat16 autocast (weights and "
                                 "optimizer stay fp32); mostly for GPUs with bf16 units")
    channels_last: bool = option(False, help="conv models: NHWC memory layout, which GPU "
                                             "convolution kernels are often faster with")
    threads: int = option(0, help="CPU threads; 0 = this run's share of the cores, which follows "
                                  "the other jobs (pin a number for bit-exact reruns and resumes)")
    name: str = option("", help="display name of the run")
    sweep: str = option("", help="the sweep and trial this run is (SWEEP#N); set by `sweep`")

    def __post_init__(self) -> None:
        if isinstance(self.normal_classes, str):
            self.normal_classes = tuple(c for c in self.normal_classes.split(",") if c)
        self.normal_classes = tuple(str(c) for c in self.normal_classes)
        self.validate()

    def _type_problems(self) -> list[str]:
        problems = []
        for f in fields(self):
            value, expected = getattr(self, f.name), type(f.default) if f.default is not MISSING \
                else dict
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                continue
            if expected is tuple:
                if not isinstance(value, tuple):
                    problems.append(f"{f.name} must be a list, not {value!r}")
                continue
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                problems.append(f"{f.name} must be a {expected.__name__}, not {value!r}")
        return problems

    def validate(self) -> None:
        """Refuse settings that cannot work, with the reason (shown in the form and the CLI).
        The one place a config's values are judged: every edge that creates a run calls it (by
        building a TrainConfig); stored runs are read with `read`, which does not."""
        problems = self._type_problems()
        for f in fields(self):
            value = getattr(self, f.name)
            if not problems and f.metadata["choices"] and value not in f.metadata["choices"]:
                problems.append(f"{f.name} must be one of {', '.join(f.metadata['choices'])}")
        if problems:
            raise UserError("invalid training settings: " + "; ".join(problems))
        if not (math.isfinite(self.lr) and 0 < self.lr <= 10):
            problems.append("learning rate must be in (0, 10]")
        if not 1 <= self.batch_size <= 65536:
            problems.append("batch size must be between 1 and 65536")
        if not 1 <= self.epochs <= 10000:
            problems.append("epochs must be between 1 and 10000")
        if not 0 <= self.seed < 2 ** 32:
            problems.append("seed must be between 0 and 2**32 - 1")
        if not 0 <= self.threads <= 1024:
            problems.append("threads must be between 0 (automatic) and 1024")
        if self.patience < 0 or self.log_every < 1:
            problems.append("patience must be >= 0, log_every >= 1")
        if not (math.isfinite(self.momentum) and 0 <= self.momentum <= 1):
            problems.append(f"momentum must be from 0 to 1, not {self.momentum:g}")
        if not (math.isfinite(self.weight_decay) and 0 <= self.weight_decay <= 10):
            problems.append(f"weight decay must be from 0 to 10, not {self.weight_decay:g}")
        for name in ("model_params", "loss_params"):
            value = getattr(self, name)
            try:
                finite = _all_finite(value) and json_depth(json.dumps(value, default=str)) <= MAX_JSON_DEPTH
            except RecursionError:
                finite = False
            if not finite:
                problems.append(f"{name} must hold finite numbers (not NaN or infinity), nested at "
                                f"most {MAX_JSON_DEPTH} deep")
        if self.denoise:
            kind, _, level = self.denoise.partition(":")
            try:
                ok = kind in DENOISE_KINDS and 0 < float(level or "nan") < 1
            except ValueError:
                ok = False
            if not ok:
                problems.append("denoise must look like gaussian:0.3 or mask:0.3 (level in (0, 1))")
        if problems:
            raise UserError("invalid training settings: " + "; ".join(problems))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["normal_classes"] = list(self.normal_classes)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        if not isinstance(d, dict):
            raise UserError(f"training settings must be a JSON object, not {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise UserError(f"unknown training setting(s): {', '.join(sorted(unknown))}")
        try:
            return cls(**d)
        except TypeError as exc:
            raise UserError(f"bad training settings: {exc}") from None

    @classmethod
    def read(cls, d: dict) -> TrainConfig:
        """A stored run's settings, read leniently: unknown keys are ignored and the value rules
        (bounds, choices) not applied, so a rule added later never makes an old run unreadable.
        Only the types must fit, since the code that uses a field relies on its type."""
        if not isinstance(d, dict):
            raise UserError(f"training settings must be a JSON object, not {type(d).__name__}")
        config = cls.__new__(cls)
        for f in fields(cls):
            if f.name in d:
                value = d[f.name]
            else:
                value = f.default_factory() if f.default is MISSING else f.default
            setattr(config, f.name, value)
        if isinstance(config.normal_classes, (list, tuple)):
            config.normal_classes = tuple(str(c) for c in config.normal_classes)
        problems = config._type_problems()
        if problems:
            raise UserError("unusable training settings: " + "; ".join(problems))
        return config

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        from core.io.files import loads

        return cls.from_dict(loads(text, "the training config"))


# -- the CLI flags, generated from the fields -------------------------------------------------
def flag_name(f) -> str:
    return "--" + (f.metadata.get("flag") or f.name.replace("_", "-"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field. Defaults are None so only the flags given override."""
    for f in fields(TrainConfig):
        kind = type(f.default) if f.default is not MISSING else dict
        common = {"dest": f.name, "default": None, "help": f.metadata["help"]}
        if kind is bool:
            parser.add_argument(flag_name(f), action=argparse.BooleanOptionalAction, **common)
        elif kind is dict:
            parser.add_argument(flag_name(f), action="append", metavar="NAME=VALUE", **common)
        elif kind is tuple:
            parser.add_argument(flag_name(f), metavar="A,B,...", **common)
        else:
            choices = f.metadata["choices"] or None
            metavar = "{" + ",".join(choices) + "}" if choices else f.name.upper()
            parser.add_argument(flag_name(f), type=kind, metavar=metavar, choices=choices, **common)


def config_from_args(args: argparse.Namespace, base: dict | None = None) -> TrainConfig:
    """base (e.g. a --config file) with every given flag applied on top."""
    values = dict(base or {})
    for f in fields(TrainConfig):
        given = getattr(args, f.name, None)
        if given is None:
            continue
        if isinstance(given, list):  # NAME=VALUE items of a dict field
            values[f.name] = {**values.get(f.name, {}), **_name_values(given, flag_name(f))}
        elif f.default == ():
            values[f.name] = [c.strip() for c in given.split(",") if c.strip()]
        else:
            values[f.name] = given
    return TrainConfig.from_dict(values)


def _name_values(items: list[str], flag: str) -> dict:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UserError(f"{flag} takes name=value, not {item!r}")
        check_depth(value, f"{flag} {name}")
        try:
            parsed = json.loads(value)  # numbers, lists, true/false
        except (ValueError, RecursionError):
            out[name] = value  # a bare word: a string
            continue
        if not _all_finite(parsed):
            raise UserError(f"{flag} {name}={value[:40]}: numbers must be finite (not NaN, "
                            "infinity or beyond 1.8e308)")
        out[name] = parsed
    return out


def run_config(run) -> TrainConfig:
    """The settings of a stored run (a core.runs.store.Run), read leniently (TrainConfig.read);
    a UserError naming the run when they cannot be used."""
    try:
        return TrainConfig.read(run.config_dict())
    except UserError as exc:
        raise UserError(f"run {run.id}: " + str(exc).removeprefix(f"run {run.id}: ")) from None


def _all_finite(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_all_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_all_finite(v) for v in value.values())
    return True


MAX_CONFIG_BYTES = 1 << 20


def config_from_flags(args) -> TrainConfig:
    """The TrainConfig that `train`'s flags describe: a `--config` JSON file (a regular file of at
    most 1 MiB) as the base, the flags over it. Shared by `train` and `sweep`."""
    from core.io.files import read_regular

    base = {}
    if getattr(args, "config", None):
        shown = "--config " + args.config.encode("utf-8", "backslashreplace").decode()
        try:  # a regular file only: --config /dev/zero or a FIFO must not hang
            text = read_regular(args.config, MAX_CONFIG_BYTES, shown).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UserError(f"cannot read {shown}: {exc}") from None
        try:
            base = TrainConfig.from_json(text).to_dict()
        except UserError as exc:
            raise UserError(f"{shown}: {exc}") from None
    return config_from_args(args, base)
