"""Keep asking the tenant until it answers with a certificate, a final no, or time runs out."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from reconciler.c8y.est import Verdict
from reconciler.c8y.http import Transient
from reconciler.c8y.progress import Progress
from reconciler.durations import format_duration
from reconciler.errors import TimedOut, Unreachable

FIRST_BACKOFF = 1.0  # seconds; doubles per consecutive server or network failure


@dataclass
class Pace:
    """Timing of a retry loop; clock, sleep and randomness are injectable for tests."""

    retry_every: float
    max_wait: float
    max_attempts: int = 5  # requests per run: the persisted backoff (backoff.py) paces the runs themselves
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random
    attempts: list = field(default_factory=list)  # (elapsed, reason) of each failed attempt

    def delay(self, verdict: Verdict, failures: int) -> float:
        if verdict.retry_after is not None:
            return verdict.retry_after
        if verdict.transient:
            cap = max(self.retry_every, FIRST_BACKOFF)
            return min(cap, FIRST_BACKOFF * 2 ** (failures - 1)) * (0.5 + self.random() / 2)
        return self.retry_every * (0.9 + self.random() / 5)  # ±10% keeps a fleet from marching in step


def keep_trying(attempt: Callable[[], Verdict], pace: Pace, progress: Progress):
    """Call `attempt` until it yields the tenant's answer; TimedOut / Unreachable after `pace.max_wait`.
    Errors and progress lines are named after `progress.what` (e.g. "enrollment of gw-0001")."""
    what = progress.what
    start = pace.clock()
    failures = 0
    number = 0
    while True:
        number += 1
        try:
            verdict = attempt()
        except Transient as err:
            verdict = Verdict(retry=str(err), transient=True)
        if verdict.answer is not None:
            progress.done()
            return verdict.answer
        failures = failures + 1 if verdict.transient else 0
        elapsed = pace.clock() - start
        pace.attempts.append((elapsed, verdict.retry))
        remaining = pace.max_wait - elapsed
        if remaining <= 0 or number >= pace.max_attempts:
            progress.done()
            waited = format_duration(timedelta(seconds=round(elapsed)))
            limit = "max_wait" if remaining <= 0 else "max_attempts"
            if verdict.transient:
                raise Unreachable(f"{what}: gave up after {number} attempts in {waited} ({limit}): {verdict.retry}")
            raise TimedOut(f"{what}: no certificate after {number} attempts in {waited} ({limit}): {verdict.retry}")
        delay = max(0.0, min(pace.delay(verdict, failures), remaining))
        progress.waiting(number, elapsed, verdict.retry, delay)
        pace.sleep(delay)
