"""Field types of the desired state: durations, renewal thresholds, file modes, device ids."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

from reconciler.basics.durations import format_duration, parse_duration

_DURATION_PATTERN = r"^\s*(\d+|(\d+\s*[A-Za-z]+\s*)+)$"


def _duration(value: object) -> timedelta:
    return parse_duration(value)


def _positive_duration(value: object) -> timedelta:
    delta = parse_duration(value)
    if delta <= timedelta(0):
        raise ValueError("must be longer than zero")
    return delta


_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": _DURATION_PATTERN},
        {"type": "integer", "minimum": 0},
    ],
    "description": "A duration: 30d, 12h, 90m, 45s, 1h30m, or whole seconds.",
}

Duration = Annotated[
    timedelta,
    PlainValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(_DURATION_SCHEMA),
]
PositiveDuration = Annotated[
    timedelta,
    PlainValidator(_positive_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({**_DURATION_SCHEMA, "description": "A duration longer than zero: 30d, 12h, 90m, 45s."}),
]


@dataclass(frozen=True)
class RenewBefore:
    """When to renew: a fixed time before expiry, or a percentage of the issued lifetime."""

    duration: timedelta | None = None
    percent: float | None = None

    def threshold(self, lifetime: timedelta) -> timedelta:
        if self.percent is not None:
            return lifetime * (self.percent / 100)
        assert self.duration is not None
        return self.duration

    def __str__(self) -> str:
        if self.percent is not None:
            return f"{self.percent:g}%"
        assert self.duration is not None
        return format_duration(self.duration)


def parse_renew_before(value: object) -> RenewBefore:
    if isinstance(value, RenewBefore):
        return value
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            percent = float(value.strip()[:-1])
        except ValueError:
            raise ValueError(f"{value!r} is not a percentage such as 33%") from None
        if not 0 < percent < 100:
            raise ValueError("a percentage must be above 0% and below 100%")
        return RenewBefore(percent=percent)
    return RenewBefore(duration=_positive_duration(value))


RenewBeforeField = Annotated[
    RenewBefore,
    PlainValidator(parse_renew_before),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _DURATION_PATTERN},
                {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*%\s*$"},
                {"type": "integer", "exclusiveMinimum": 0},
            ],
            "description": "Renew this long before expiry (30d) or at this share of the issued lifetime left (33%).",
        }
    ),
]


def parse_mode(value: object) -> int:
    """File modes are octal: '0600' or '600' as text, or a number YAML already read as octal (0600)."""
    if isinstance(value, bool):
        raise ValueError("expected an octal file mode such as '0600'")
    if isinstance(value, str) and re.fullmatch(r"0?[0-7]{3}", value.strip()):
        return int(value.strip(), 8)
    if isinstance(value, int) and 0 <= value <= 0o777:
        return value
    raise ValueError("expected an octal file mode such as '0600' (quote it in YAML)")


FileMode = Annotated[
    int,
    PlainValidator(parse_mode),
    PlainSerializer(lambda mode: f"{mode:04o}", return_type=str),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": r"^0?[0-7]{3}$"}, {"type": "integer", "minimum": 0, "maximum": 511}],
            "description": "An octal file mode such as '0600'.",
        }
    ),
]

# Certificate CN and Cumulocity external id; 64 is the X.520 upper bound for a common name.
DEVICE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"
