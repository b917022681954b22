"""File writes that never leave a half-written file: temp file in the same directory, fsync,
rename, fsync of the directory. Private keys are created with their final mode from the first byte.

Temp files carry a recognisable name (`.<name>.reconcile-<8 hex>.tmp`) so that a later run can
sweep what a killed one left (`leftovers.py`). Nothing here writes through a symbolic link: a
link at the target is replaced, never followed; a directory, FIFO, socket or device at the target
is refused before anything is written. Every OS error names what was being done and the path.
"""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path

from reconciler.basics.errors import Blocked, file_failure
from reconciler.basics.safe_read import kind_of

DIR_MODE = 0o755
TEMP_MARK = "reconcile-"
TEMP_SUFFIX = ".tmp"


@contextmanager
def failures_named(doing: str, path):
    """Turn an OSError inside the block into a one-line error naming `doing` and `path`."""
    try:
        yield
    except OSError as err:
        raise file_failure(doing, path, err) from None


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{TEMP_MARK}{os.urandom(4).hex()}{TEMP_SUFFIX}")  # not secrets: its imports cost a no-op run


def fsync_dir(directory: Path) -> None:
    with failures_named("cannot sync the directory", directory):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def ensure_dir(directory: Path, mode: int = DIR_MODE) -> None:
    with failures_named("cannot create the directory", directory):
        directory.mkdir(parents=True, exist_ok=True, mode=mode)
        if not directory.is_dir():  # mkdir(exist_ok) accepts a link to a file on some versions
            raise NotADirectoryError(20, "Not a directory", str(directory))


def check_replaceable(path: Path) -> None:
    """Blocked unless `path` is absent, a regular file or a symbolic link (which is replaced, not followed)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as err:
        raise file_failure("cannot inspect", path, err) from None
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise Blocked(f"{path} is {kind_of(st.st_mode)}, not a regular file; it is never replaced")


def open_temp(path: Path, mode: int, uid: int | None, gid: int | None) -> tuple[int, Path]:
    """A new temp file beside `path`, with its final mode and owner before any byte is written."""
    ensure_dir(path.parent)
    temp = temp_path(path)
    with failures_named("cannot create", temp):
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        with failures_named("cannot set mode and owner of", temp):
            os.fchmod(fd, mode)  # the umask may have taken bits away; never adds any beyond `mode`
            if uid is not None or gid is not None:
                os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
    except BaseException:
        os.close(fd)
        temp.unlink(missing_ok=True)
        raise
    return fd, temp


def write_all(fd: int, data: bytes, where: Path, offset: int | None = None, sync: bool = True) -> None:
    """Write every byte (at `offset` when given) and fsync (unless `sync` is false); errors name `where`."""
    with failures_named("cannot write", where):
        view = memoryview(data)
        position = offset
        while view:
            written = os.write(fd, view) if position is None else os.pwrite(fd, view, position)
            view = view[written:]
            if position is not None:
                position += written
        if sync:
            os.fsync(fd)


def _write_temp(path: Path, data: bytes, mode: int, uid: int | None, gid: int | None, durable: bool = True) -> Path:
    fd, temp = open_temp(path, mode, uid, gid)
    try:
        write_all(fd, data, path, sync=durable)
    except BaseException:
        os.close(fd)
        temp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return temp


def _put_in_place(temp: Path, path: Path, durable: bool = True) -> None:
    """Rename a finished temp over `path` and make that durable; the temp goes if the rename fails."""
    try:
        with failures_named("cannot replace", path):
            os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def write_atomic(
    path: Path, data: bytes, mode: int, uid: int | None = None, gid: int | None = None, durable: bool = True
) -> None:
    """Replace `path` with `data` in one step; readers see the old or the new file, never a mix.
    `durable=False` skips the fsyncs, for what a power cut may roll back (the run history): a kill
    still leaves the old or the new file, never a mix."""
    check_replaceable(path)
    _put_in_place(_write_temp(path, data, mode, uid, gid, durable), path, durable)


def create_atomic(path: Path, data: bytes, mode: int, uid: int | None = None, gid: int | None = None) -> None:
    """Like write_atomic, but fails with FileExistsError rather than replace an existing file."""
    temp = _write_temp(path, data, mode, uid, gid)
    try:
        try:
            os.link(temp, path)
        except FileExistsError:
            raise
        except OSError as err:
            raise file_failure("cannot create", path, err) from None
    finally:
        temp.unlink(missing_ok=True)  # a kill before this leaves a second name: leftovers.py sweeps it
    fsync_dir(path.parent)


def rename_atomic(source: Path, target: Path) -> None:
    check_replaceable(target)
    with failures_named(f"cannot move {source} to", target):
        os.replace(source, target)
    fsync_dir(target.parent)
    if source.parent != target.parent:
        fsync_dir(source.parent)


def symlink_atomic(link: Path, points_to: str) -> None:
    """Make `link` a symbolic link to `points_to` in one step, replacing what is there."""
    check_replaceable(link)
    temp = temp_path(link)
    with failures_named("cannot create the link", temp):
        os.symlink(points_to, temp)
    _put_in_place(temp, link)


def remove_file(path: Path) -> None:
    """Unlink `path` (a file or link, never followed) durably; absent is fine."""
    with failures_named("cannot remove", path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
    fsync_dir(path.parent)
