"""Read the actual state of the device into an Observation. Unreadable or corrupt files are
observations, not crashes: the planner decides what they mean.

Nothing here blocks or reads more than a bound: the kind of every path is checked with
lstat/stat before it is opened (a FIFO, device, socket or directory is recorded, never opened),
and links that lead out of the declared directories are recorded so that apply never changes
the mode or owner of what they point at.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
from importlib.util import find_spec
from pathlib import Path

from reconciler.basics.errors import BadInput
from reconciler.basics.layout import list_backups, staged, state_file
from reconciler.basics.limits import MAX_PEM_BYTES
from reconciler.basics.safe_read import kind_of, read_regular
from reconciler.desired.model import DesiredState
from reconciler.desired.secrets import one_time_password_source
from reconciler.device.live_pair import switch_link
from reconciler.planning.observation import CertFacts, FileInfo, KeyFacts, Observation, Ownership
from reconciler.x509.chain import chain_problem
from reconciler.x509.facts import (
    EncryptedKey,
    certificate_info,
    key_algorithm,
    load_certificates,
    load_private_key,
    public_key_id,
)
from reconciler.x509.tenant_ca import load_tenant_ca


def declared_dirs(spec: DesiredState) -> tuple[Path, ...]:
    paths = spec.paths
    return tuple(dict.fromkeys((paths.key.parent, paths.cert.parent, paths.csr.parent, paths.backup_dir)))


def inside(target: str, directories: tuple[Path, ...]) -> bool:
    """Whether the real path `target` lies in one of `directories` (their real paths)."""
    for directory in directories:
        real = os.path.realpath(directory)
        if target == real or target.startswith(real.rstrip(os.sep) + os.sep):
            return True
    return False


def file_info(path: Path, directories: tuple[Path, ...] = ()) -> FileInfo:
    """What is at `path`, links followed for kind and mode; never opens anything."""
    try:
        link = os.lstat(path)
    except FileNotFoundError:
        return FileInfo(path, exists=False)
    except OSError as err:
        return FileInfo(path, exists=True, special=f"cannot be examined: {err.strerror}")
    outside = False
    st = link
    if stat.S_ISLNK(link.st_mode):
        outside = bool(directories) and not inside(os.path.realpath(path), directories)
        try:
            st = os.stat(path)
        except FileNotFoundError:  # a dangling link reads as absent; a write replaces the link
            return FileInfo(path, exists=False, dangling=os.readlink(path))
        except OSError as err:
            return FileInfo(path, exists=True, special=f"cannot be examined: {err.strerror}")
    # a second hard link elsewhere shares the inode: a chmod here would change that file too
    outside = outside or (stat.S_ISREG(st.st_mode) and st.st_nlink > 1)
    info = FileInfo(path, True, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, outside=outside)
    if not stat.S_ISREG(st.st_mode):
        return info._replace(special=f"is {kind_of(st.st_mode)}, not a regular file")
    return info


def _read(path: Path, directories: tuple[Path, ...]) -> tuple[FileInfo, bytes | None, str | None]:
    info = file_info(path, directories)
    if not info.exists or info.special:
        return info, None, info.special
    try:
        return info, read_regular(path, MAX_PEM_BYTES), None
    except OSError as err:
        return info, None, f"cannot read: {err.strerror}"


def observe_key(path: Path, directories: tuple[Path, ...] = ()) -> KeyFacts:
    info, data, error = _read(path, directories)
    if info.dangling is not None:  # a key on a volume not mounted yet is not a missing key
        return KeyFacts(info._replace(exists=True, special=f"is a link to {info.dangling}, which does not exist"))
    if data is None:
        return KeyFacts(info, error=error)
    try:
        key = load_private_key(data)
    except EncryptedKey as err:
        return KeyFacts(info, error=str(err))
    except ValueError as err:
        return KeyFacts(info, error=str(err).splitlines()[0])
    public = key.public_key()
    return KeyFacts(info, algorithm=key_algorithm(public), public_key_id=public_key_id(public))


def observe_cert(path: Path, directories: tuple[Path, ...] = (), anchors: list | None = None) -> CertFacts:
    info, data, error = _read(path, directories)
    if data is None:
        return CertFacts(info, error=error)
    try:
        certs = load_certificates(data)
        facts = certificate_info(certs[0])
    except ValueError as err:
        return CertFacts(info, error=f"not a certificate ({str(err).splitlines()[0]})")
    chain = None
    if anchors:
        chain = chain_problem(certs, anchors)
    return CertFacts(info, info=facts, chain_problem=chain)


def observe_ownership(owner: str | None, group: str | None) -> Ownership:
    if owner is None and group is None:
        return Ownership()
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


def unusable_paths(spec: DesiredState, directories: tuple[Path, ...]) -> tuple[str, ...]:
    """Declared paths that are not what they must be: directories that are not directories, a CSR
    path that is not a regular file. Only a person can fix these."""
    problems = []
    for directory in directories:
        try:
            st = os.stat(directory)
        except FileNotFoundError:
            continue  # created when needed
        except OSError as err:
            problems.append(f"{directory} cannot be used as a directory: {err.strerror}")
            continue
        if not stat.S_ISDIR(st.st_mode):
            problems.append(f"{directory} is {kind_of(st.st_mode)}, not a directory")
    for path in (spec.paths.csr, state_file(spec.paths.cert)):  # without its history a device would forget its backoff
        info = file_info(path)
        if info.special:
            problems.append(f"{info.path} {info.special}")
    link = switch_link(spec.paths.cert)
    try:
        mode = os.lstat(link).st_mode
        if not stat.S_ISLNK(mode):
            problems.append(f"{link} is {kind_of(mode)}, not the link key and certificate switch by")
    except OSError:
        pass
    return tuple(problems)


def _tenant_anchors(spec: DesiredState) -> list | None:
    """The configured tenant CA, to verify a staged candidate before planning to promote it."""
    if spec.tenant.ca_certificate is None:
        return None
    try:
        return load_tenant_ca(spec.tenant.ca_certificate)
    except BadInput:
        return None  # apply reports it when the CA is needed


def _mqtt_library_installed(spec: DesiredState) -> bool:
    if spec.activation.verify != "mqtt" and spec.renewal.auth != "mqtt":
        return True  # not asked for: not looked for
    return find_spec("paho") is not None


def _activation_command_found(spec: DesiredState) -> bool:
    if spec.activation.strategy == "none":
        return True
    return shutil.which(spec.activation.command[0]) is not None


def observe(spec: DesiredState, environ: dict[str, str] | None = None) -> Observation:
    """Gather everything the planner needs; `spec` must be resolved (all paths set)."""
    paths = spec.paths
    assert paths.key and paths.cert and paths.backup_dir, "observe() needs a resolved desired state"
    directories = declared_dirs(spec)
    candidate_path = staged(paths.cert)
    candidate_info = file_info(candidate_path)
    anchors = _tenant_anchors(spec) if candidate_info.exists and not candidate_info.special else None
    return Observation(
        key=observe_key(paths.key, directories),
        cert=observe_cert(paths.cert, directories),
        candidate=observe_cert(candidate_path, directories, anchors),
        staged_key=observe_key(staged(paths.key), directories),
        backups=list_backups(paths.backup_dir),
        ownership=observe_ownership(paths.owner, paths.group),
        one_time_password_available=one_time_password_source(spec).available(os.environ if environ is None else environ),
        unusable=unusable_paths(spec, directories),
        mqtt_library=_mqtt_library_installed(spec),
        activation_command_found=_activation_command_found(spec),
    )
