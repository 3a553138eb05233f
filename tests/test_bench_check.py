"""`python -m tests.bench --check` exits non-zero when a figure misses its goal, and 0 otherwise."""
from __future__ import annotations

from tests.bench.__main__ import _rows, exit_status
from tests.bench.common import Figure


def _figures(core_seconds: float) -> list[Figure]:
    return [Figure("b", "core", [core_seconds], goal=1.0, baseline="base", ratio_goal=2.0),
            Figure("b", "base", [1.0])]


def test_check_fails_on_a_missed_goal_and_names_it(capsys) -> None:
    rows = _rows(_figures(3.0))  # over its 1 s goal and 3x its baseline
    assert [r["ok"] for r in rows] == [False, None]
    assert exit_status(rows, check=False) == 0  # plain runs only report
    assert exit_status(rows, check=True) == 1
    assert "missed goal: b core median 3 s, 3.00x baseline" in capsys.readouterr().err


def test_check_passes_when_every_goal_is_met() -> None:
    rows = _rows(_figures(0.5))
    assert rows[0]["ok"] is True and exit_status(rows, check=True) == 0
    rows = _rows([Figure("b", "core", [1.5], goal=2.0, baseline="base", ratio_goal=1.2),
                  Figure("b", "base", [1.0])])
    assert rows[0]["ok"] is False  # the median meets its goal, the ratio does not
