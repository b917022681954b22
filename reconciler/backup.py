"""Backups of replaced certificates (and keys, on rotation): one folder per swap, newest kept."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from reconciler.atomic_files import ensure_dir, fsync_dir, write_atomic
from reconciler.layout import BACKUP_PREFIX, list_backups


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S.%fZ")


def back_up(files: list[tuple[Path, int]], backup_dir: Path, now: datetime, label: str, keep: int) -> Path:
    """Copy each (file, mode) into a new folder `backup-<UTC time>-<label>`; keep the newest `keep`."""
    ensure_dir(backup_dir, 0o700)
    folder = backup_dir / f"{BACKUP_PREFIX}{_stamp(now)}-{label}"
    folder.mkdir(mode=0o700)
    for path, mode in files:
        write_atomic(folder / path.name, path.read_bytes(), mode)
    fsync_dir(backup_dir)
    for old in list_backups(backup_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return folder


def set_aside(path: Path, backup_dir: Path, now: datetime) -> Path:
    """Move a rejected file out of the way (never delete what may be evidence)."""
    ensure_dir(backup_dir, 0o700)
    target = backup_dir / f"rejected-{_stamp(now)}-{path.name}"
    write_atomic(target, path.read_bytes(), 0o600)
    path.unlink()
    fsync_dir(path.parent)
    return target
