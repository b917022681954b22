"""Rows: the certificate directory on a read-only or a full filesystem (a small tmpfs of its own,
mounted in a private mount namespace). A converged device stays fine; a device that needs a
change is blocked before anything reaches the tenant, with a message naming the directory."""

from __future__ import annotations

from pathlib import Path

from tests.hostile_states import DRY, Mount, Row, Scene

READ_ONLY = Mount(read_only=True)
FULL = Mount(free=16 * 1024)  # room for a key and a CSR, not for the 32 KiB kept for an answer (limits.py)
NO_ROOM_AT_ALL = Mount(free=0)
NO_ROOM = r"cannot reserve .* for the tenant's answer .*nothing was sent"


def _converged(scene: Scene) -> None:
    scene.converged()


def _enrollment_needed(scene: Scene) -> Path:
    scene.key_only()
    return scene.certs  # what a message about the filesystem names


def _renewal_due(scene: Scene) -> Path:
    scene.due()
    return scene.certs


def _no_key(scene: Scene) -> Path:
    return scene.certs


ROWS = [
    Row("read-only-converged", _converged, 0, r"converged", mount=READ_ONLY, untouched=True),
    Row("read-only-enrollment-needed", _enrollment_needed, 4, r"(?i)read-only", mount=READ_ONLY),
    Row("read-only-renewal-due", _renewal_due, 4, r"(?i)read-only", mount=READ_ONLY),
    Row("read-only-dry-run", _enrollment_needed, 0, r"Plan for gw-0001", args=DRY, mount=READ_ONLY),
    Row("read-only-dry-run-detailed-exitcode", _enrollment_needed, 2, r"Plan for gw-0001",
        args=(*DRY, "--detailed-exitcode"), mount=READ_ONLY),
    Row("full-filesystem-enrollment-needed", _enrollment_needed, 4, NO_ROOM, mount=FULL),
    Row("full-filesystem-renewal-due", _renewal_due, 4, NO_ROOM, mount=FULL),
    Row("full-filesystem-converged", _converged, 0, r"converged", mount=FULL, untouched=True),
    Row("full-filesystem-no-room-for-a-key", _no_key, 4, r"No space left", mount=NO_ROOM_AT_ALL),
]
