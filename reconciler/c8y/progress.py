"""Progress while waiting for the tenant: a live line on a terminal, one line per attempt otherwise."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import TextIO

from reconciler.basics.durations import format_duration
from reconciler.basics.live_line import LiveLine
from reconciler.basics.logs import json_enabled, json_line


def _short(seconds: float) -> str:
    return format_duration(timedelta(seconds=round(seconds)))


class Progress:
    def __init__(self, what: str, stream: TextIO | None = None):
        self.what = what
        self.stream = stream or sys.stderr
        self.as_json = json_enabled()  # --log-format json: one JSON object per attempt, never a live line
        self.line = LiveLine(self.stream, allowed=not self.as_json)

    def waiting(self, attempt: int, elapsed: float, reason: str, next_in: float, asked: float | None = None) -> None:
        """`asked`: the tenant's Retry-After in seconds, shown as it was given."""
        told = "" if asked is None else f" (the tenant's Retry-After: {_short(asked)})"
        line = f"{self.what}: attempt {attempt}, {_short(elapsed)} elapsed, next try in {_short(next_in)}{told} — {reason}"
        if self.as_json:
            extra = {} if asked is None else {"retry_after_s": round(asked, 1)}
            self.stream.write(json_line("info", line, event="waiting", attempt=attempt, elapsed_s=round(elapsed, 1),
                                        next_in_s=round(next_in, 1), detail=reason, **extra) + "\n")
        elif self.line.live:
            self.line.draw(line[:200])
        else:
            self.stream.write(f"reconcile: {line}\n")
        self.stream.flush()

    def done(self) -> None:
        self.line.clear()
