"""One line of progress redrawn in place on a terminal, and wiped when done; nothing at all elsewhere
(a log file or a pipe gets no escape codes)."""

from __future__ import annotations

import sys
from typing import TextIO

_WIPE = "\r\033[K"  # back to the start of the line, and clear it


class LiveLine:
    def __init__(self, stream: TextIO | None = None, allowed: bool = True):
        """`allowed`: False keeps it silent even on a terminal (e.g. JSON logs on the same stream)."""
        self.stream = stream or sys.stderr
        self.live = allowed and self.stream.isatty()
        self._drawn = False

    def draw(self, text: str) -> None:
        if self.live:
            self.stream.write(_WIPE + text)
            self.stream.flush()
            self._drawn = True

    def clear(self) -> None:
        if self._drawn:
            self.stream.write(_WIPE)
            self.stream.flush()
            self._drawn = False
