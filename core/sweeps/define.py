"""A sweep from what a form holds: axes as lines of text, the search settings, the base config."""
from __future__ import annotations

from core.errors import UserError
from core.sweeps import axes as ax
from core.sweeps.study import Pruner, SweepDef, define
from core.training.config import TrainConfig


def parse_lines(text: str) -> list[ax.Axis]:
    """One axis per line (`NAME=V1,V2` or `NAME=LOW..HIGH`); blank lines and # comments skipped."""
    lines = [ln.strip() for ln in text.splitlines()]
    return [ax.parse_axis(ln) for ln in lines if ln and not ln.startswith("#")]


def from_form(base: dict, axes_text: str, search: str, trials: int = 0, repeats: int = 1,
              prune: str = "none", parallel: int = 0, name: str = "", epoch_budget: int = 0) -> SweepDef:
    """The checked definition, or a UserError with one line."""
    config = TrainConfig.from_dict(base)
    try:
        search_, prune_ = ax.Search(search), Pruner(prune)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return define(config, parse_lines(axes_text), search_, trials, repeats, "", prune_, "",
                  parallel, name, epoch_budget=epoch_budget)
