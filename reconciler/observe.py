"""Read the actual state of the device into an Observation. Unreadable or corrupt files are
observations, not crashes: the planner decides what they mean."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from reconciler.layout import list_backups, staged
from reconciler.observation import CertFacts, FileInfo, KeyFacts, Observation, Ownership
from reconciler.secret_source import one_time_password_source
from reconciler.spec import DesiredState
from reconciler.x509_facts import (
    certificate_info,
    key_algorithm,
    load_certificates_pem,
    load_private_key_pem,
    public_key_id,
)

MAX_PEM_BYTES = 1 << 20  # a key or certificate file is a few KiB; anything this large is not one


def _read(path: Path) -> tuple[FileInfo, bytes | None, str | None]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return FileInfo(path, exists=False), None, None
    except OSError as err:
        return FileInfo(path, exists=True), None, f"cannot stat: {err.strerror}"
    info = FileInfo(path, exists=True, mode=stat.S_IMODE(st.st_mode), uid=st.st_uid, gid=st.st_gid)
    if not stat.S_ISREG(st.st_mode):
        return info, None, "not a regular file"
    if st.st_size > MAX_PEM_BYTES:
        return info, None, f"{st.st_size} bytes is too large for a PEM file"
    try:
        return info, path.read_bytes(), None
    except OSError as err:
        return info, None, f"cannot read: {err.strerror}"


def observe_key(path: Path) -> KeyFacts:
    info, data, error = _read(path)
    if data is None:
        return KeyFacts(info, error=error)
    try:
        key = load_private_key_pem(data)
    except TypeError:
        return KeyFacts(info, error="the key is encrypted; only unencrypted PEM keys are supported")
    except ValueError as err:
        return KeyFacts(info, error=f"not a PEM private key ({str(err).splitlines()[0]})")
    public = key.public_key()
    return KeyFacts(info, algorithm=key_algorithm(public), public_key_id=public_key_id(public))


def observe_cert(path: Path) -> CertFacts:
    info, data, error = _read(path)
    if data is None:
        return CertFacts(info, error=error)
    try:
        certs = load_certificates_pem(data)
    except ValueError as err:
        return CertFacts(info, error=f"not a PEM certificate ({str(err).splitlines()[0]})")
    return CertFacts(info, info=certificate_info(certs[0]))


def observe_ownership(owner: str | None, group: str | None) -> Ownership:
    if owner is None and group is None:
        return Ownership()
    import grp  # only when asked for: loading the user database is not free
    import pwd

    uid = gid = None
    try:
        if owner is not None:
            uid = int(owner) if owner.isdigit() else pwd.getpwnam(owner).pw_uid
        if group is not None:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    except KeyError:
        missing = f"user {owner!r}" if uid is None and owner is not None else f"group {group!r}"
        return Ownership(error=f"{missing} does not exist on this device")
    return Ownership(uid=uid, gid=gid)


def observe(spec: DesiredState, environ: dict[str, str] | None = None) -> Observation:
    """Gather everything the planner needs; `spec` must be resolved (all paths set)."""
    paths = spec.paths
    assert paths.key and paths.cert and paths.backup_dir, "observe() needs a resolved desired state"
    return Observation(
        key=observe_key(paths.key),
        cert=observe_cert(paths.cert),
        candidate=observe_cert(staged(paths.cert)),
        staged_key=observe_key(staged(paths.key)),
        backups=list_backups(paths.backup_dir),
        ownership=observe_ownership(paths.owner, paths.group),
        one_time_password_available=one_time_password_source(spec).available(os.environ if environ is None else environ),
    )
