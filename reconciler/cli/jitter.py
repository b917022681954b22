"""A random pause before a run, so that a fleet started at the same minute (cron, a power cut
ending) spreads its calls to the tenant instead of sending them all at once."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Callable


def sleep_jitter(
    limit: timedelta,
    uniform: Callable[[float, float], float] | None = None,
    sleep: Callable[[float], None] | None = None,
    before_sleep: Callable[[float], None] = lambda seconds: None,
) -> float:
    """Sleep a uniformly random time in [0, limit] and return it (randomness and sleep are
    injectable; by default random.uniform and time.sleep). Ctrl-C or SIGTERM (as
    KeyboardInterrupt) ends the sleep at once: nothing has been read or touched yet."""
    seconds = (uniform or random.uniform)(0.0, limit.total_seconds()) if limit > timedelta(0) else 0.0
    if seconds > 0:
        before_sleep(seconds)
        (sleep or time.sleep)(seconds)
    return seconds
