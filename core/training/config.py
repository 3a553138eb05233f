"""The training config: everything a run needs, as a dataclass that round-trips as JSON."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

from core.errors import UserError

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("none", "cosine", "step", "onecycle")
DEVICES = ("auto", "cpu", "cuda", "mps")
DENOISE_KINDS = ("gaussian", "mask")


@dataclass
class TrainConfig:
    dataset: str = "digits"  # a DatasetSpec in text form
    model: str = "default_cnn"
    model_params: dict = field(default_factory=dict)
    loss: str = "auto"  # auto: cross_entropy / mse / elbo by model kind
    loss_params: dict = field(default_factory=dict)  # label_smoothing, beta, mse_weight, ...
    optimizer: str = "adam"
    lr: float = 3e-3
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.0
    schedule: str = "onecycle"
    batch_size: int = 64
    epochs: int = 10
    patience: int = 0  # epochs without a better validation metric before stopping; 0 = never
    augment: bool = False  # classifiers: random shifts of up to 1/8 of the image side
    denoise: str = ""  # autoencoders: "gaussian:0.3" or "mask:0.3" corrupts inputs, not targets
    normal_classes: tuple[str, ...] = ()  # anomaly training: train/validate on these classes only
    seed: int = 0
    device: str = "auto"
    log_every: int = 10  # steps between train-loss points on the live curve
    name: str = ""

    def __post_init__(self) -> None:
        self.normal_classes = tuple(str(c) for c in self.normal_classes)
        self.validate()

    def validate(self) -> None:
        """Refuse settings that cannot work, with the reason (shown in the form and the CLI)."""
        problems = []
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {', '.join(SCHEDULES)}")
        if self.device not in DEVICES:
            problems.append(f"device must be one of {', '.join(DEVICES)}")
        if not 0 < self.lr <= 10:
            problems.append("learning rate must be in (0, 10]")
        if not 1 <= self.batch_size <= 65536:
            problems.append("batch size must be between 1 and 65536")
        if not 1 <= self.epochs <= 10000:
            problems.append("epochs must be between 1 and 10000")
        if self.patience < 0 or self.log_every < 1 or self.weight_decay < 0:
            problems.append("patience and weight decay must be >= 0, log_every >= 1")
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
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise UserError(f"unknown training setting(s): {', '.join(sorted(unknown))}")
        try:
            return cls(**d)
        except TypeError as exc:
            raise UserError(f"bad training settings: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> "TrainConfig":
        return cls.from_dict(json.loads(text))
