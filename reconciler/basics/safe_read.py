"""Reading files that may be anything: a FIFO, a device, a directory, a symlink, or far too large.

Every file the reconciler reads (desired state, tedge.toml, keys, certificates, the one-time
password) goes through `read_regular`: the kind is checked with lstat/stat before the file is
opened, the open never blocks (O_NONBLOCK), fstat checks again what was really opened, and no
more than `limit` bytes are ever read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

KIB = 1024
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class FileRefused(OSError):
    """A path that must not be read: not a regular file, or larger than the bound. An OSError
    whose strerror is the reason, so that code naming OS errors names this one too."""

    def __init__(self, path: Path, reason: str):
        super().__init__(None, reason, str(path))
        self.path = Path(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def kind_of(mode: int) -> str:
    """What an inode is, in words for messages ("a FIFO", "a directory", ...)."""
    for test, name in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "a special file"


def not_regular(st: os.stat_result) -> str | None:
    """Why a stat result (of the file itself, links followed) is not something to read or replace."""
    if stat.S_ISREG(st.st_mode):
        return None
    return f"is {kind_of(st.st_mode)}, not a regular file"


def not_own(st: os.stat_result) -> str | None:
    """Why a file's content may have been chosen by another user than the one running us: it
    belongs to someone else, or its group or others may write it. None when only we (or root) could."""
    euid = os.geteuid()
    if st.st_uid != euid:
        return f"belongs to uid {st.st_uid}, not to uid {euid} that runs reconcile"
    if st.st_mode & 0o022:
        return f"may be written by its group or by others (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def check_regular(path: Path) -> os.stat_result:
    """stat of `path` (links followed) when it is a regular file; FileRefused otherwise.
    FileNotFoundError (and other OSErrors) pass through."""
    st = os.stat(path)
    reason = not_regular(st)
    if reason:
        raise FileRefused(path, reason)
    return st


def read_regular(path: Path, limit: int, own_only: bool = False) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; FileRefused for anything else, and
    with `own_only` for a file another user could have written (not_own).
    OSError (FileNotFoundError included) passes through for the caller to name."""
    path = Path(path)
    st = check_regular(path)  # before opening: opening a FIFO or a device may block or act
    if st.st_size > limit:
        raise FileRefused(path, f"is {st.st_size} bytes, more than the {limit // KIB} KiB such a file may have")
    fd = os.open(path, _OPEN_FLAGS)
    try:
        opened = os.fstat(fd)  # the path may have been swapped between stat and open
        reason = not_regular(opened) or (not_own(opened) if own_only else None)
        if reason:
            raise FileRefused(path, reason)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(64 * KIB, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    finally:
        os.close(fd)
    if total > limit:
        raise FileRefused(path, f"grew past the {limit // KIB} KiB such a file may have while it was read")
    return b"".join(chunks)
