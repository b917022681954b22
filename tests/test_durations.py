from datetime import timedelta

import pytest

from reconciler.basics.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    "text, seconds",
    [("30d", 30 * 86400), ("12h", 43200), ("90m", 5400), ("45s", 45), ("1h30m", 5400), ("1d 12h", 129600),
     ("2w", 1209600), ("365days", 365 * 86400), ("10 minutes", 600), ("0", 0), ("0s", 0), (0, 0), (3600, 3600)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "d", "30x", "-5d", "1.5h", "30d extra", True, 1.5, -1, None, [], "h30",
                                  100000000000000, 10**20, 10**400])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("seconds, text", [(0, "0s"), (45, "45s"), (5400, "1h30m"), (30 * 86400, "30d"), (90061, "1d1h1m1s")])
def test_format_duration_round_trips(seconds, text):
    assert format_duration(timedelta(seconds=seconds)) == text
    assert parse_duration(text) == timedelta(seconds=seconds)
