"""A place for the tenant's answer, reserved before the request that spends a one-time password.

A certificate the tenant issues for a spent one-time password exists once. So, before asking:
a temp file beside `<cert>.new` is created and space for the largest answer we accept is
allocated (a read-only, unwritable or full directory stops the run here, with nothing sent).
After a 2xx, the first thing that happens is `keep()`: the answer's bytes, exactly as the tenant
sent them, are written into that space, fsync'd and renamed to `<cert>.new`, fsync'd again.
Verification, backup and the swap come after; a run killed anywhere later finds the answer staged
and finishes without asking the tenant again.
"""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.atomic_files import check_replaceable, failures_named, fsync_dir, open_temp, write_all
from reconciler.c8y.http import MAX_ANSWER_BYTES


class AnswerStore:
    def __init__(self, target: Path, mode: int, uid: int | None, gid: int | None, reserve: int = MAX_ANSWER_BYTES):
        check_replaceable(target)
        self.target = target
        self.kept = False
        self.fd, self.temp = open_temp(target, mode, uid, gid)
        try:
            with failures_named(f"cannot reserve {reserve // 1024} KiB for the tenant's answer (nothing was sent) at", self.temp):
                os.posix_fallocate(self.fd, 0, reserve)
                os.fsync(self.fd)
        except BaseException:
            self.close()
            raise

    def keep(self, answer: bytes) -> None:
        """Make `answer` durable as the target: write, truncate, fsync, rename, fsync the directory."""
        write_all(self.fd, answer, self.temp, offset=0)
        with failures_named("cannot write", self.temp):
            os.ftruncate(self.fd, len(answer))
            os.fsync(self.fd)
        with failures_named("cannot store the tenant's answer as", self.target):
            os.replace(self.temp, self.target)
        self.kept = True
        fsync_dir(self.target.parent)

    def close(self) -> None:
        """Release the reservation; the temp file goes unless the answer was kept."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if not self.kept:
            self.temp.unlink(missing_ok=True)

    def __enter__(self) -> "AnswerStore":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
