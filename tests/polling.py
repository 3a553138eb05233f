"""Waiting in tests for something another process does (a background run, a lock)."""
from __future__ import annotations

import time


def wait_for(predicate, timeout: float = 120.0, every: float = 0.05):
    """predicate()'s first truthy value, polled every `every` seconds; fails after `timeout`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := predicate():
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
