"""Backups of replaced certificates (and keys): one folder per swap, newest kept.

Files in a backup carry their role, not the live file's name (`certificate.pem`,
`private-key.pem`): a key and a certificate may share a file name in two directories.

A backup is written into `.backup-….tmp`, fsync'd, then renamed into place: it is complete or
absent, and an unfinished one never counts towards `backup_keep` (leftovers.py sweeps it).
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from datetime import datetime
from pathlib import Path

from reconciler.basics.atomic_files import ensure_dir, failures_named, fsync_dir, remove_file, write_atomic
from reconciler.basics.errors import file_failure
from reconciler.basics.layout import BACKUP_PREFIX, list_backups
from reconciler.basics.limits import MAX_ANSWER_BYTES
from reconciler.basics.safe_read import read_regular


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S.%fZ")


CERT_FILE = "certificate.pem"
KEY_FILE = "private-key.pem"


def back_up(files: list[tuple[str, bytes, int]], backup_dir: Path, now: datetime, label: str, keep: int) -> Path:
    """Write each (file name, bytes, mode) into a new folder `backup-<UTC time>-<label>`; keep the newest `keep`."""
    ensure_dir(backup_dir, 0o700)
    name = f"{BACKUP_PREFIX}{_stamp(now)}-{label}"
    unfinished = backup_dir / f".{name}.{secrets.token_hex(4)}.tmp"
    with failures_named("cannot create the backup folder", unfinished):
        unfinished.mkdir(mode=0o700)
    for file_name, data, mode in files:
        write_atomic(unfinished / file_name, data, mode)
    folder = backup_dir / name
    with failures_named("cannot finish the backup", folder):
        os.rename(unfinished, folder)
    fsync_dir(backup_dir)
    for old in list_backups(backup_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return folder


def keep_evidence(data: bytes, name: str, backup_dir: Path, now: datetime) -> Path:
    """Store bytes that must not be lost but cannot be used, as `rejected-<UTC time>-<name>`."""
    ensure_dir(backup_dir, 0o700)
    target = backup_dir / f"rejected-{_stamp(now)}-{name}"
    write_atomic(target, data, 0o600)
    return target


def set_aside(path: Path, backup_dir: Path, now: datetime) -> Path:
    """Move a rejected file out of the way (never delete what may be evidence)."""
    ensure_dir(backup_dir, 0o700)
    target = backup_dir / f"rejected-{_stamp(now)}-{path.name}"
    try:
        os.rename(path, target)
    except OSError as err:
        if err.errno != errno.EXDEV:
            raise file_failure(f"cannot move {path} to", target, err) from None
        with failures_named("cannot read", path):  # another filesystem: copy, then remove
            data = read_regular(path, MAX_ANSWER_BYTES)
        kept = keep_evidence(data, path.name, backup_dir, now)
        remove_file(path)
        return kept
    fsync_dir(backup_dir)
    fsync_dir(path.parent)
    return target
