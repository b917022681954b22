"""One reconcile at a time per certificate: an exclusive advisory lock with a bounded wait.

On a read-only or unwritable certificate directory no lock can be created, and none is needed:
nothing can change there. The run goes on without it, to report a converged device as such;
the engine refuses to apply anything in that state. The same holds when a device file is a
FIFO, device, socket or directory (`device.cert_path = /dev/null`): the run is blocked, and
nothing — no lock, no run history — is created beside it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, NamedTuple

from reconciler.basics.errors import Blocked, Locked, file_failure
from reconciler.basics.layout import lock_file
from reconciler.basics.safe_read import kind_of, not_regular

_UNWRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}
_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class LockState(NamedTuple):
    held: bool
    unwritable: str | None = None  # why no lock was created: the place is read-only, or a device file is special


def _open(path: Path) -> int | str:
    """An fd on the lock file, or the reason it cannot be written (read-only, no permission)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | _FLAGS, 0o600)
    except (FileExistsError, NotADirectoryError):
        raise Blocked(f"{path.parent} (or a folder above it) is not a directory; the certificate directory belongs there") from None
    except OSError as err:
        if err.errno not in _UNWRITABLE:
            if err.errno == errno.ELOOP:
                raise Blocked(f"{path} is a symbolic link; the lock file is never followed: remove the link") from None
            raise file_failure("cannot create the lock file", path, err) from None
        reason = f"{path}: {err.strerror}"
        if err.errno == errno.EROFS:  # nothing can change here, so nothing needs the lock
            return reason
    try:
        return os.open(path, os.O_RDONLY | _FLAGS)  # no write permission: an existing lock still locks
    except OSError:
        return reason


@contextmanager
def exclusive_lock(path: Path, timeout: float):
    """Hold an exclusive lock on `path` (created 0600); Locked when another holder keeps it past `timeout`.
    Yields a LockState: not held (and why) when the directory cannot be written at all."""
    opened = _open(path)
    if isinstance(opened, str):
        yield LockState(held=False, unwritable=opened)
        return
    fd = opened
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise Blocked(f"{path} is {kind_of(mode)}, not the lock file; move it away")
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
        yield LockState(held=True)
    finally:
        os.close(fd)  # closing releases the lock


def special_device_file(paths: Iterable[Path]) -> str | None:
    """`<path> is a FIFO, not a regular file` for the first of `paths` (links followed) that exists
    and is not a regular file; None when each is regular or absent."""
    for path in paths:
        try:
            reason = not_regular(os.stat(path))
        except FileNotFoundError:  # absent, or a dangling link: written when needed
            continue
        except OSError as err:
            return f"{path} cannot be examined: {err.strerror}"
        if reason:
            return f"{path} {reason}"
    return None


@contextmanager
def device_lock(cert: Path, device_files: Iterable[Path], timeout: float):
    """The lock beside `cert` (layout.lock_file), taken only when every device file is a regular file
    or absent: beside a special file nothing is created (the run is blocked by the planner)."""
    special = special_device_file(device_files)
    if special is not None:
        yield LockState(held=False, unwritable=special)
        return
    with exclusive_lock(lock_file(cert), timeout) as state:
        yield state
