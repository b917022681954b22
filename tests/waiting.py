"""Waiting for something another process does (a stand-in, the emulator, the broker), with a bound."""

from __future__ import annotations

import time


def until(condition, timeout: float = 10.0, what: str = "condition", every: float = 0.05):
    """The first true value of `condition()`, asked every `every` seconds; AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")
