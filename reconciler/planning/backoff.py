"""How long to leave the tenant alone after it failed us: the persisted backoff (pure).

After a run whose enrollment or renewal failed (or whose certificate was already due for renewal
when issued), the run history records how many runs in a row the tenant failed us and the time
of the next allowed request: `first`, doubling per failure, capped at `max`, stretched by up to
10 % at random so that a fleet failing together does not come back together. A run before that
time asks the tenant nothing (exit 9). Success, a change of the desired state, or a new one-time
password in its file, ends it. When the tenant itself asked for a longer wait (Retry-After, see
c8y/retry.py), the backoff lasts at least that long.

With the defaults (first 1h, max 24h, 5 requests per run) and an hourly timer, a tenant failing
for a whole day hears from a device in at most 5 runs (0, 1, 3, 7, 15 hours): at most 25 requests.
"""

from __future__ import annotations

import hashlib
import os
import random
from datetime import datetime, timedelta
from typing import Callable, NamedTuple

SPREAD = 0.1  # a delay is stretched by up to this fraction


class Waiting(NamedTuple):
    """A backoff in force: no tenant request before `until`."""

    until: datetime
    failures: int
    reason: str | None


def delay(failures: int, first: timedelta, cap: timedelta, draw: Callable[[], float] = random.random) -> timedelta:
    """The pause after `failures` (≥ 1) runs in a row in which the tenant failed us."""
    base = min(cap, first * 2 ** min(failures - 1, 32))
    return min(cap, base * (1 + SPREAD * draw()))


def desired_state_digest(spec) -> str:
    """A short fingerprint of the (resolved) desired state and of the one-time password file's size
    and modification time (never its content): a changed state, or a new password written into
    the file, ends a backoff."""
    digest = hashlib.sha256(spec.model_dump_json().encode())
    password_file = spec.enrollment.one_time_password_file
    if password_file is not None:
        try:
            st = os.stat(password_file)
            digest.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
        except OSError:
            pass
    return digest.hexdigest()[:16]


def _believed(history, now: datetime, cap: timedelta) -> bool:
    """Whether `backoff_until` can be trusted at `now`: no further off than the longest pause, or, when
    the tenant's Retry-After set it, recorded by a run that is not in the future (a clock that was
    ahead when it was set)."""
    if history.backoff_until <= now + cap * (1 + SPREAD) + timedelta(seconds=1):
        return True
    set_by_tenant = history.tenant_wait_until is not None and history.tenant_wait_until >= history.backoff_until
    return set_by_tenant and history.last_run is not None and history.last_run.time <= now


def in_force(history, digest: str, now: datetime, cap: timedelta) -> Waiting | None:
    """The backoff `history` records for this desired state, if it still holds at `now` and is believed."""
    if history is None or history.backoff_until is None or history.backoff_digest != digest:
        return None
    if not now < history.backoff_until or not _believed(history, now, cap):
        return None
    return Waiting(history.backoff_until, history.tenant_failures, history.backoff_reason)
