"""Where the reconciler puts things beside the live files (thin-edge's `<cert>.new` convention)."""

from __future__ import annotations

from pathlib import Path

BACKUP_PREFIX = "backup-"
LOCK_NAME = ".reconcile.lock"
STATE_SUFFIX = ".reconcile-state.json"  # the run history (run_history.py), named after the certificate


def staged(path: Path) -> Path:
    """The candidate beside a live file: `tedge-certificate.pem.new`."""
    return path.with_name(path.name + ".new")


def lock_file(cert: Path) -> Path:
    return cert.parent / LOCK_NAME


def state_file(cert: Path) -> Path:
    return cert.parent / f".{cert.name}{STATE_SUFFIX}"


def list_backups(backup_dir: Path) -> tuple[Path, ...]:
    """Backup folders, oldest first (their names start with a sortable UTC timestamp)."""
    try:
        entries = [p for p in backup_dir.iterdir() if p.is_dir() and p.name.startswith(BACKUP_PREFIX)]
    except OSError:
        return ()
    return tuple(sorted(entries))
