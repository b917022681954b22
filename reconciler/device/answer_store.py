"""A place for the tenant's answer, reserved before the request that spends a one-time password.

A certificate the tenant issues for a spent one-time password exists once. So, before asking,
a reservation file `.<cert>.new.reconcile-<hex>.answer` is created beside `<cert>.new`, space
for the largest answer we accept (limits.MAX_ANSWER_BYTES, plus a 16-byte trailer) is allocated, fsync'd, and mapped
into memory (a read-only, unwritable or full directory stops the run here, nothing sent).

The body of a 2xx is copied into the shared mapping as it streams in (`begin`/`write`/`end`,
called by the HTTP client before it even closes the response), and a trailer (magic + length)
last: plain memory stores, no system call, so no kill can fall between the tenant's answer and
its safety — from the trailer on the bytes are in the file's page cache, and a killed process
loses nothing. Then `keep()`: msync (durable on disk too), unmap, truncate to the answer's
length, fsync, rename to `<cert>.new`, fsync the directory. A run killed anywhere in between
leaves the reservation file, which the next run turns into `<cert>.new` (`recover`) before it
looks at anything; verification, backup and the swap all work from that file. (The client
defers SIGINT and SIGTERM while a request is in flight: they take effect once the answer is kept.)
"""

from __future__ import annotations

import mmap
import os
import stat
import struct
from datetime import datetime
from pathlib import Path

from reconciler.basics.atomic_files import TEMP_MARK, check_replaceable, failures_named, fsync_dir, temp_path
from reconciler.basics.errors import Blocked
from reconciler.basics.limits import LEGACY_ANSWER_RESERVES, MAX_ANSWER_BYTES
from reconciler.basics.safe_read import read_regular
from reconciler.device.backup import keep_evidence

ANSWER_SUFFIX = ".answer"
TRAILER = struct.Struct(">8sQ")  # magic, answer length: written last, so it vouches for the bytes before it
MAGIC = b"C8Y-ANSW"


def reservation_path(target: Path) -> Path:
    return temp_path(target).with_suffix(ANSWER_SUFFIX)


def is_reservation(name: str, target: Path) -> bool:
    return name.startswith(f".{target.name}.{TEMP_MARK}") and name.endswith(ANSWER_SUFFIX)


def _finish(fd: int, reservation: Path, length: int, target: Path) -> None:
    """Cut the reservation to the answer and rename it to `target`, durably."""
    with failures_named("cannot store the tenant's answer (it is safe in the reservation) as", target):
        os.ftruncate(fd, length)
        os.fsync(fd)
        os.replace(reservation, target)
    fsync_dir(target.parent)


class AnswerStore:
    def __init__(self, target: Path, mode: int, uid: int | None, gid: int | None, reserve: int = MAX_ANSWER_BYTES):
        check_replaceable(target)
        self.target, self.reserve = target, reserve
        self.path = reservation_path(target)
        self.map: mmap.mmap | None = None
        self.holds_answer = False
        self.received = 0
        self.streaming = False
        with failures_named("cannot create", self.path):
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
        try:
            with failures_named(
                f"cannot reserve {reserve // 1024} KiB for the tenant's answer (nothing was sent) at", self.path
            ):
                os.fchmod(self.fd, mode)
                if uid is not None or gid is not None:
                    os.fchown(self.fd, -1 if uid is None else uid, -1 if gid is None else gid)
                os.posix_fallocate(self.fd, 0, reserve + TRAILER.size)
                os.fsync(self.fd)
                self.map = mmap.mmap(self.fd, reserve + TRAILER.size)
            fsync_dir(target.parent)
        except BaseException:
            self.close()
            raise

    # --- streaming, from the HTTP client: memory stores only, no system call -----------------------

    def begin(self, status: int) -> bool:
        """Whether the body of an answer with `status` is to be kept as it arrives (any 2xx)."""
        self.received = 0
        self.streaming = 200 <= status < 300
        return self.streaming

    def write(self, chunk: bytes) -> None:
        end = self.received + len(chunk)
        if end <= self.reserve:  # a larger answer is refused by the client; nothing past the space
            self.map[self.received : end] = chunk
        self.received = end

    def end(self) -> None:
        """The whole body is in the mapping: the trailer vouches for it, and it is never deleted by us."""
        if self.streaming and 0 < self.received <= self.reserve:
            self.map[self.reserve :] = TRAILER.pack(MAGIC, self.received)
            self.holds_answer = True

    # --- once the answer is judged a certificate answer ---------------------------------------------

    def keep(self, answer: bytes) -> None:
        """Make `answer` durable as the target (it is in the mapping already when it was streamed)."""
        if len(answer) > self.reserve:
            raise Blocked(f"the tenant's answer of {len(answer)} bytes is larger than the {self.reserve} reserved")
        if not (self.holds_answer and self.received == len(answer) and self.map[: len(answer)] == answer):
            self.map[: len(answer)] = answer
            self.map[self.reserve :] = TRAILER.pack(MAGIC, len(answer))
            self.holds_answer = True  # from here the reservation file is never deleted by us
        with failures_named("cannot sync the tenant's answer in", self.path):
            self.map.flush()
        self.map.close()
        self.map = None
        _finish(self.fd, self.path, len(answer), self.target)

    def close(self) -> None:
        """Release the reservation; the file goes unless it holds an answer not yet stored."""
        if self.map is not None:
            self.map.close()
            self.map = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if not self.holds_answer:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> "AnswerStore":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _answer_in(reservation: Path, reserve: int) -> bytes | None:
    """The answer a killed run left in a reservation file, or None when it holds none. A reservation
    of the size an earlier version reserved (LEGACY_ANSWER_RESERVES) is read by its trailer too."""
    if not stat.S_ISREG(os.lstat(reservation).st_mode):
        return None  # a link or anything else at our name: not ours, not read
    sizes = {size + TRAILER.size: size for size in (reserve, *LEGACY_ANSWER_RESERVES)}
    data = read_regular(reservation, max(sizes))
    if len(data) in sizes:  # not yet truncated: the trailer says whether and how much
        space = sizes[len(data)]
        magic, length = TRAILER.unpack(data[space:])
        return data[:length] if magic == MAGIC and 0 < length <= space else None
    # truncated to the answer but not yet renamed; a reservation cut short while allocating is all zeros
    return data if data.strip(b"\0") else None


def recover(reservation: Path, target: Path, backup_dir: Path, now: datetime, reserve: int = MAX_ANSWER_BYTES) -> str:
    """Finish what a killed run started with `reservation`; one line for the report."""
    answer = _answer_in(reservation, reserve)
    if answer is None:
        reservation.unlink()
        return f"removed {reservation}, a reservation no answer arrived for"
    if os.path.lexists(target):
        if read_regular(target, max(reserve, *LEGACY_ANSWER_RESERVES)) == answer:
            reservation.unlink()
            return f"removed {reservation}, already stored as {target}"
        # two different answers: keep both, stage neither over the other
        kept = keep_evidence(answer, f"answer-{target.name}", backup_dir, now)
        reservation.unlink()
        return f"kept the tenant's answer found in {reservation} as {kept}: {target} holds another one"
    fd = os.open(reservation, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        _finish(fd, reservation, len(answer), target)
    finally:
        os.close(fd)
    return f"stored the tenant's answer that an interrupted run left in {reservation} as {target}"
