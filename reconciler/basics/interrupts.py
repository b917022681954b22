"""SIGINT and SIGTERM held back while a request whose answer exists only once is in flight."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

HELD = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def held_back():
    """Ctrl-C and SIGTERM (systemd stopping the unit) wait until the block is over, then act: a
    request that spends a one-time password is never cut between the answer and its safe keeping.
    Bounded by the request's own timeout. Only the main thread receives Python's signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
