"""UTC times as the reconciler writes them in reports, the journal and the run history: `2026-06-01T12:00:00Z`."""

from __future__ import annotations

import re
from datetime import datetime, timezone

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_WRITTEN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def utc_now() -> datetime:
    """The clock every run reads (tests and the engine pass their own in its place)."""
    return datetime.now(timezone.utc)


def human_time(moment: datetime) -> str:
    """`2026-06-01 12:00:00Z`: how messages name a moment (UTC, to the second)."""
    return f"{moment:%Y-%m-%d %H:%M:%S}Z"


def format_time(moment: datetime) -> str:
    """`moment` (in UTC) to the second."""
    return moment.strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """The moment `format_time` wrote; ValueError for anything else."""
    # fromisoformat rather than strptime: no locale machinery to import on a no-op run
    if not isinstance(text, str) or not _WRITTEN.fullmatch(text):
        raise ValueError(f"{text!r} is not a UTC time like 2026-06-01T12:00:00Z")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc)
