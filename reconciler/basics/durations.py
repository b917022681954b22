"""Durations as people write them in a desired state or tedge.toml: `30d`, `12h`, `1h30m`, `45s`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNIT_SECONDS = {
    "w": 604800, "week": 604800, "weeks": 604800,
    "d": 86400, "day": 86400, "days": 86400,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
}
_PART = re.compile(r"\s*(\d+)\s*([a-z]+)\s*")
MAX_DIGITS = 12  # a trillion of any unit is far past any validity; longer numbers are refused unread


def parse_duration(value: object) -> timedelta:
    """Parse `30d`, `12h`, `90m`, `45s`, combinations like `1d12h`, or a whole number of seconds.

    Raises ValueError with a message that says what is accepted.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30d, 12h, 90m or 45s")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return _bounded(value, str(value) if value < 10**40 else "a number that large")
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 30d, 12h, 90m or 45s")
    text = value.strip().lower()
    shown = repr(value) if len(value) <= 40 else repr(value[:40]) + "…"
    if text.isdigit():
        return _bounded(int(text) if len(text) <= MAX_DIGITS else None, shown)
    total, pos = 0, 0
    while pos < len(text):  # each part matched where the last ended: linear in the length
        match = _PART.match(text, pos)
        if match is None or match.group(2) not in _UNIT_SECONDS:
            break
        if len(match.group(1)) > MAX_DIGITS:
            return _bounded(None, shown)
        total += int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"{shown} is not a duration; use forms like 30d, 12h, 90m, 45s or 1h30m")
    return _bounded(total, shown)


def _bounded(seconds: int | None, shown: str) -> timedelta:
    """The duration, or ValueError when it is beyond what a timedelta holds (None: too many digits)."""
    try:
        if seconds is None:
            raise OverflowError
        return timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"{shown} is longer than any duration this tool can hold") from None


def format_duration(delta: timedelta) -> str:
    """The shortest canonical text for a duration, e.g. `30d`, `1h30m`, `0s`."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)
