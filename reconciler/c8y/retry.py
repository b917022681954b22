"""Keep asking the tenant until it answers with a certificate, a final no, or time runs out.

A `Retry-After` is never cut short (RFC 7030 §4.2.3: the client MUST wait at least that long):
when the tenant's wait goes past what is left of `enrollment.max_wait`, the run ends at once
without asking again (ServerWait, exit 7), and the run history keeps the earliest next attempt
so that no later run asks before it."""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from reconciler.basics.durations import format_duration
from reconciler.basics.errors import ReconcileError, TimedOut, Unreachable
from reconciler.basics.timestamps import format_time
from reconciler.c8y.est import Verdict
from reconciler.c8y.http import Transient
from reconciler.c8y.progress import Progress

FIRST_BACKOFF = 1.0  # seconds; doubles per consecutive server or network failure
LONGEST_SERVER_WAIT = 365 * 86400.0  # a Retry-After further off is read as a year (a date in 9999 still fits a datetime)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Pace:
    """Timing of a retry loop; clocks, sleep and randomness are injectable for tests."""

    retry_every: float
    max_wait: float
    max_attempts: int = 5  # requests per run: the persisted backoff (backoff.py) paces the runs themselves
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random
    attempts: list = field(default_factory=list)  # (elapsed, reason) of each failed attempt
    wall: Callable[[], datetime] = _utc_now  # dates the earliest next attempt a tenant's Retry-After sets

    def delay(self, verdict: Verdict, failures: int) -> float:
        if verdict.retry_after is not None:
            return verdict.retry_after
        if verdict.transient:
            cap = max(self.retry_every, FIRST_BACKOFF)
            return min(cap, FIRST_BACKOFF * 2 ** (failures - 1)) * (0.5 + self.random() / 2)
        return self.retry_every * (0.9 + self.random() / 5)  # ±10% keeps a fleet from marching in step


class ServerWait(TimedOut):
    """The tenant asked for a wait longer than this run may last: no request before `not_before`."""

    def __init__(self, message: str, not_before: datetime):
        super().__init__(message)
        self.not_before = not_before


def _short(seconds: float) -> str:
    return format_duration(timedelta(seconds=round(seconds)))


def _not_before(pace: Pace, wait: float) -> datetime:
    """The earliest moment the tenant allows the next request, rounded up to the second."""
    moment = pace.wall() + timedelta(seconds=math.ceil(min(wait, LONGEST_SERVER_WAIT)))
    return moment.replace(microsecond=0) + (timedelta(seconds=1) if moment.microsecond else timedelta())


def _gave_up(error: ReconcileError, pace: Pace, verdict: Verdict) -> ReconcileError:
    """The run's last error; when the tenant's last answer asked for a wait, it carries it along."""
    if verdict.retry_after is not None:
        error.not_before = _not_before(pace, verdict.retry_after)
    return error


def keep_trying(attempt: Callable[[], Verdict], pace: Pace, progress: Progress):
    """Call `attempt` until it yields the tenant's answer; TimedOut / Unreachable after `pace.max_wait`
    or `pace.max_attempts`, ServerWait when the tenant's Retry-After goes past `max_wait`.
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
        asked = verdict.retry_after  # the tenant's own wait: never shortened
        if remaining <= 0 or number >= pace.max_attempts:
            progress.done()
            waited = _short(elapsed)
            limit = "max_wait" if remaining <= 0 else "max_attempts"
            if verdict.transient:
                raise _gave_up(Unreachable(f"{what}: gave up after {number} attempts in {waited} ({limit}): {verdict.retry}"),
                               pace, verdict)
            raise _gave_up(TimedOut(f"{what}: no certificate after {number} attempts in {waited} ({limit}): {verdict.retry}"),
                           pace, verdict)
        if asked is not None and asked > remaining:
            progress.done()
            not_before = _not_before(pace, asked)
            raise ServerWait(
                f"{what}: the tenant asks to wait {_short(asked)} (Retry-After) after attempt {number}, longer than the "
                f"{_short(remaining)} left of enrollment.max_wait; no request before {format_time(not_before)} "
                f"(--force asks sooner): {verdict.retry}",
                not_before,
            )
        delay = max(0.0, asked if asked is not None else min(pace.delay(verdict, failures), remaining))
        progress.waiting(number, elapsed, verdict.retry, delay, asked)
        pace.sleep(delay)
