"""An append-only record of what apply did, beside the backups: one JSON line per action.

For audits across a fleet ("when was this certificate swapped, and why?"). It holds action
names, reasons, paths and serials; never a secret. Rotated once past a size bound.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime
from pathlib import Path

from reconciler.applying.result import ActionResult
from reconciler.basics.atomic_files import ensure_dir
from reconciler.basics.errors import ReconcileError
from reconciler.basics.timestamps import format_time

JOURNAL_NAME = "journal.jsonl"
MAX_BYTES = 256 * 1024


def journal_path(backup_dir: Path) -> Path:
    return backup_dir / JOURNAL_NAME


def record(backup_dir: Path, device_id: str, result: ActionResult, now: datetime) -> None:
    """Append one line; a journal that cannot be written never fails the run."""
    path = journal_path(backup_dir)
    entry = {
        "time": format_time(now),
        "device_id": device_id,
        "action": result.action.kind.value,
        "reason": result.action.reason.value,
        "status": result.status,
        "target": None if result.action.target is None else str(result.action.target),
        "detail": result.detail,
    }
    try:
        ensure_dir(backup_dir, 0o700)
        try:
            if os.lstat(path).st_size > MAX_BYTES:
                os.replace(path, path.with_name(JOURNAL_NAME + ".1"))
        except FileNotFoundError:
            pass
        # never through a link, never blocking on a FIFO someone put there
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                os.write(fd, (json.dumps(entry) + "\n").encode("utf-8"))
        finally:
            os.close(fd)
    except (OSError, ReconcileError):
        pass
