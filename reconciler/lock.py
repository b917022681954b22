"""One reconcile at a time per certificate: an exclusive advisory lock with a bounded wait."""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from reconciler.atomic_files import ensure_dir
from reconciler.errors import Locked


@contextmanager
def exclusive_lock(path: Path, timeout: float):
    """Hold an exclusive lock on `path` (created 0600); Locked when another holder keeps it past `timeout`."""
    ensure_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Locked(
                        f"{path}: another reconcile holds the lock; gave up after {timeout:g}s (--lock-timeout)"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing releases the lock
