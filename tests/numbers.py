"""Comparing what training records: exact where exactness is the promise, tolerant elsewhere.

Epochs, steps, counts, thread counts and any other integer are a promise and compared exactly.
A float is a reduction whose last digits depend on the machine's kernels (a fresh clone on another
CPU split a sum differently and val_loss moved in the 8th digit), so it is compared to rel 1e-6.
"""
from __future__ import annotations

import math

import torch

REL = 1e-6


def _same(a, b, rel: float) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, int) and isinstance(b, int):
        return a == b
    if isinstance(a, float) or isinstance(b, float):
        if not isinstance(a, int | float) or not isinstance(b, int | float):
            return False
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rel, abs_tol=rel * 1e-3)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], rel) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y, rel) for x, y in zip(a, b))
    return a == b


TIMINGS = ("time", "seconds", "images_per_s")  # and any key ending in _seconds (probe_seconds)


def without_timings(records: list[dict]) -> list[dict]:
    """Records less what the clock measures: wall times and speeds differ between any two runs."""
    return [{k: v for k, v in r.items() if k not in TIMINGS and not k.endswith("_seconds")} for r in records]


def assert_records_match(a, b, rel: float = REL) -> None:
    """Two metric histories (lists of dicts) agree: integers and strings exactly, floats to `rel`."""
    assert _same(a, b, rel), f"records differ beyond rel {rel}:\n{a}\n{b}"


def assert_state_dicts_match(a: dict, b: dict, rel: float = 1e-5) -> None:
    """Two model state dicts agree tensor by tensor (same keys, shapes, dtypes; values to `rel`)."""
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].shape == b[k].shape and a[k].dtype == b[k].dtype, k
        if a[k].is_floating_point():
            assert torch.allclose(a[k], b[k], rtol=rel, atol=rel * 1e-2), k
        else:
            assert torch.equal(a[k], b[k]), k
