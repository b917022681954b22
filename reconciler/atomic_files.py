"""File writes that never leave a half-written file: temp file in the same directory, fsync,
rename, fsync of the directory. Private keys are created with their final mode from the first byte."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DIR_MODE = 0o755


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(directory: Path, mode: int = DIR_MODE) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=mode)


def _write_temp(path: Path, data: bytes, mode: int, uid: int | None, gid: int | None) -> Path:
    ensure_dir(path.parent)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have taken bits away; never adds any beyond `mode`
        if uid is not None or gid is not None:
            os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        temp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return temp


def write_atomic(path: Path, data: bytes, mode: int, uid: int | None = None, gid: int | None = None) -> None:
    """Replace `path` with `data` in one step; readers see the old or the new file, never a mix."""
    temp = _write_temp(path, data, mode, uid, gid)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def create_atomic(path: Path, data: bytes, mode: int, uid: int | None = None, gid: int | None = None) -> None:
    """Like write_atomic, but fails with FileExistsError rather than replace an existing file."""
    temp = _write_temp(path, data, mode, uid, gid)
    try:
        os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def rename_atomic(source: Path, target: Path) -> None:
    os.replace(source, target)
    fsync_dir(target.parent)
    if source.parent != target.parent:
        fsync_dir(source.parent)
