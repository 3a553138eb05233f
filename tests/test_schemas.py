"""Each schema written once: the projection parameters' bounds serve the CLI's check and help and
the Latent page's inputs; a training config's fit to a dataset is judged by preflight alone, the
page and the CLI giving the same reason."""
from __future__ import annotations

import pytest

from core.cli import build_parser
from core.cli import main as cli_main
from core.data.dataset import load_dataset
from core.errors import UserError
from core.latent.methods import PARAMS, Method, check_params, form_defaults, params_help
from core.training.config import TrainConfig
from core.training.preflight import training_problems


@pytest.mark.parametrize("method", [m for m in Method if PARAMS[m]])
def test_projection_bounds_are_checked_from_the_one_schema(method: Method) -> None:
    for p in PARAMS[method]:
        for good in (p.low, p.high, p.default):
            value = check_params(method, {p.name: good})[p.name]
            assert value == good and type(value) is p.type
        step = 1 if p.type is int else 1e-3
        for bad in (p.low - step, p.high + step):
            with pytest.raises(UserError, match=f"{p.name} must be a number from {p.low:g} to {p.high:g}"):
                check_params(method, {p.name: bad})
    assert set(form_defaults(method)) == {p.name for p in PARAMS[method] if p.in_form}


def test_the_embed_help_lists_every_parameter_with_its_bounds() -> None:
    embed = build_parser()._subparsers._group_actions[0].choices["embed"]
    shown = " ".join(embed.format_help().split())
    assert " ".join(params_help().split()) in shown
    for params in PARAMS.values():
        for p in params:
            assert f"{p.name} (" in shown and f"{p.low:g}..{p.high:g}" in shown, p.name


def test_a_perplexity_below_the_pages_minimum_is_refused_by_the_cli_too(settings, capsys) -> None:
    """Before: the CLI took perplexity 1.5, the page's input stopped at 2."""
    (perplexity,) = PARAMS[Method.TSNE]
    assert perplexity.low == 2.0
    code = cli_main(["embed", "digits-vae", "--method", "tsne", "--params", '{"perplexity": 1.5}'])
    assert code == 2 and "perplexity must be a number from 2 to 100" in capsys.readouterr().err


def test_the_cli_refuses_a_config_with_the_train_pages_reason(settings, capsys) -> None:
    config = TrainConfig(model="mlp", loss="bce")  # a binary head on ten classes
    (reason,) = training_problems(config, load_dataset("digits", settings))
    assert cli_main(["train", "--model", "mlp", "--loss", "bce"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {reason}"
    assert not settings.runs_dir.exists() or not any(settings.runs_dir.iterdir())  # nothing left
