"""Sweep what killed runs left behind, under the lock, before anything is observed.

First, a reservation file holding a tenant's answer (answer_store.py) is stored as `<cert>.new`:
an issued certificate is never swept. Then only names this tool makes are touched, and only in
the declared directories:
- temp files `.<managed name>.reconcile-<8 hex>.tmp` (and `.<managed name>.<8 hex>.tmp` of
  earlier versions) — some hold a private key, one may be a second link to the live key; the run
  history's temp files too;
- pair folders `.<cert>.reconcile-pair-*` that no live name reaches, and an unused switch link
  `.<cert>.reconcile-live`;
- `<cert>.new` / `<key>.new` identical to the live file (a swap finished but was not tidied);
- in the backup directory, unfinished backup folders (`.backup-*.tmp`) and temp files.
Sweeping is best effort: what cannot be removed (a read-only disk) is reported, never fatal.
"""

from __future__ import annotations

import os
import re
import stat
from datetime import datetime
from pathlib import Path

from reconciler.basics.errors import ReconcileError
from reconciler.basics.layout import staged, state_file
from reconciler.basics.limits import MAX_PEM_BYTES
from reconciler.basics.safe_read import read_regular
from reconciler.device import live_pair
from reconciler.device.answer_store import is_reservation, recover

_TEMP = re.compile(r"^\.(?P<base>.+)\.(?:reconcile-)?[0-9a-f]{8}\.tmp$")
_UNFINISHED_BACKUP = re.compile(r"^\.backup-.+\.tmp$")
BACKUP_DIR_FILES = ("rejected-", "journal.jsonl", "backup-")  # what we write into backup_dir (temp files of)


def _entries(directory: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(directory) as entries:
            return list(entries)
    except OSError:
        return []


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _same_bytes(a: Path, b: Path) -> bool:
    try:
        if not stat.S_ISREG(os.lstat(a).st_mode):
            return False
        return read_regular(a, MAX_PEM_BYTES) == read_regular(b, MAX_PEM_BYTES)
    except (OSError, ValueError):
        return False


def stale_paths(spec) -> list[Path]:
    """What a killed run of ours left in the declared directories (nothing is removed here)."""
    paths = spec.paths
    managed = {p.name for p in (paths.key, paths.cert, paths.csr, staged(paths.key), staged(paths.cert))}
    managed |= {live_pair.switch_link(paths.cert).name, state_file(paths.cert).name}
    found: list[Path] = []
    for directory in dict.fromkeys((paths.key.parent, paths.cert.parent, paths.csr.parent)):
        for entry in _entries(directory):
            match = _TEMP.match(entry.name)
            if match and match.group("base") in managed and not _is_dir(entry):
                found.append(Path(entry.path))
    found += live_pair.unused(paths.key, paths.cert)
    for live in (paths.cert, paths.key):
        if _same_bytes(staged(live), live):
            found.append(staged(live))
    for entry in _entries(paths.backup_dir):
        temp = _TEMP.match(entry.name)
        ours = temp and temp.group("base").startswith(BACKUP_DIR_FILES) and not _is_dir(entry)
        if ours or _UNFINISHED_BACKUP.match(entry.name):
            found.append(Path(entry.path))
    return found


def _recover_answers(spec, now) -> list[str]:
    """Reservation files of killed enrollments: an answer in one is stored, never swept."""
    candidate = staged(spec.paths.cert)
    notes = []
    for entry in _entries(candidate.parent):
        if not is_reservation(entry.name, candidate):
            continue
        try:
            if entry.is_symlink():  # not something we made: removed, never followed
                os.unlink(entry.path)
                notes.append(f"removed {entry.path}, a link where only an answer of ours belongs")
            elif not _is_dir(entry):
                notes.append(recover(Path(entry.path), candidate, spec.paths.backup_dir, now))
        except (OSError, ReconcileError) as err:
            notes.append(f"could not recover {entry.path}: {err}")
    return notes


def sweep(spec, now: datetime) -> list[str]:
    """Recover answers, then remove the stale paths; one line per path for the report."""
    notes = _recover_answers(spec, now)
    for path in stale_paths(spec):
        try:
            live_pair.remove(path)
            notes.append(f"removed {path}, left by an interrupted run")
        except FileNotFoundError:
            continue
        except OSError as err:
            notes.append(f"could not remove {path}, left by an interrupted run: {err.strerror}")
    return notes
