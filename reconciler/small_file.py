"""Read a small file from a disk we do not trust: only a regular file (or a symlink to one), never
blocking on a FIFO or a device, never more than a bound."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnsafeFile(ValueError):
    """The path exists but is not something to read: its message says why."""


def read_small_file(path: Path, max_bytes: int) -> bytes | None:
    """The bytes of `path`, or None when nothing is there.

    Raises UnsafeFile when it is not a regular file (after following a symlink), is larger than
    `max_bytes`, or cannot be read.
    """
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            st = os.stat(path)  # a symlink is fine only when it ends at a regular file
    except FileNotFoundError:
        if os.path.islink(path):
            raise UnsafeFile("a symlink to nothing") from None
        return None
    except OSError as err:
        raise UnsafeFile(f"cannot stat: {err.strerror}") from None
    _check(st, max_bytes)
    try:
        # O_NONBLOCK: should a FIFO be swapped in after the check, opening it must not hang
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as err:
        raise UnsafeFile(f"cannot open: {err.strerror}") from None
    try:
        _check(os.fstat(fd), max_bytes)  # what was opened, not what was looked at
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        raise UnsafeFile(f"cannot read: {err.strerror}") from None
    finally:
        os.close(fd)
    if size > max_bytes:
        raise UnsafeFile(f"larger than {max_bytes} bytes")
    return b"".join(chunks)


def _check(st: os.stat_result, max_bytes: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeFile("not a regular file")
    if st.st_size > max_bytes:
        raise UnsafeFile(f"{st.st_size} bytes, larger than {max_bytes}")
