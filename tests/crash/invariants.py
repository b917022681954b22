"""What must hold after a kill, and after the run that recovers from it.

Each check returns the problems it found as short sentences; an empty list is a pass. Files are
read through their paths, following symlinks, as thin-edge (or mosquitto) would read them.
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from c8y_emulator.server import TenantEmulator
from reconciler.device.backup import CERT_FILE, KEY_FILE
from tests.tenant_device import Device

# Hidden names the reconciler may leave in the certificate and backup folders: the lock, the run
# history, and the switch link with the one pair folder it points at (live_pair.py; checked in
# leftover_problems).
ALLOWED_HIDDEN = (".reconcile.lock", ".*.reconcile-state.json", ".*.reconcile-live", ".*.reconcile-pair-*")
SPENT_PASSWORD = 7  # reconcile's exit code when the registration is gone (the password was used)


def _backup_dir(device: Device) -> Path:
    return device.cert.parent / "backup"  # paths.backup_dir's default; the scenarios keep it


def _complete_pem(data: bytes) -> bool:
    return data.count(b"-----BEGIN ") == data.count(b"-----END ") > 0 and data.rstrip().endswith(b"-----")


def _read(path: Path, what: str, load):
    """(parsed, None) or (None, the problem)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        return None, f"{what} cannot be read ({err.strerror})"
    if not _complete_pem(data):
        return None, f"{what} is not a complete PEM file ({len(data)} bytes)"
    try:
        return load(data), None
    except (ValueError, TypeError) as err:
        return None, f"{what} does not parse ({str(err).splitlines()[0]})"


def _read_key(path: Path, what: str):
    return _read(path, what, lambda data: serialization.load_pem_private_key(data, password=None))


def _read_certificate(path: Path, what: str):
    certificates, problem = _read(path, what, x509.load_pem_x509_certificates)
    return (certificates[0] if certificates else None), problem


def _public_der(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _common_name(certificate: x509.Certificate) -> str | None:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return names[0].value if names else None


def live_pair_problems(device: Device, both_required: bool = False) -> list[str]:
    """Each live file that is there reads completely, and when both are there they are one pair."""
    problems = []
    key = certificate = None
    if os.path.lexists(device.key):
        key, problem = _read_key(device.key, "the live key")
        problems += [problem] if problem else []
    elif both_required:
        problems.append("there is no live key")
    if os.path.lexists(device.cert):
        certificate, problem = _read_certificate(device.cert, "the live certificate")
        problems += [problem] if problem else []
    elif both_required:
        problems.append("there is no live certificate")
    if key is not None and certificate is not None:
        if _public_der(key.public_key()) != _public_der(certificate.public_key()):
            problems.append("the live key and certificate do not match")
    return problems


def converged_problems(device: Device, recovery: subprocess.CompletedProcess) -> list[str]:
    """The recovery run exited 0, the run after it plans nothing, and the live pair is the device's.
    (Exit 7, a spent one-time password, is lost_answer_problems' business.)"""
    if recovery.returncode == SPENT_PASSWORD:
        return []
    if recovery.returncode != 0:
        last = (recovery.stderr.strip().splitlines() or ["(no output)"])[-1]
        return [f"the recovery run exited {recovery.returncode} ({last[:120]})"]
    dry = device.run("--dry-run", "--output", "json")
    status = json.loads(dry.stdout).get("status") if dry.stdout.startswith("{") else dry.stderr.strip()
    problems = [] if status == "converged" else [f"after the recovery run the plan is {status!r}, not 'converged'"]
    pair = live_pair_problems(device, both_required=True)
    if not pair:
        certificate, _ = _read_certificate(device.cert, "")
        if _common_name(certificate) != device.device_id:
            pair.append(f"the live certificate is for CN {_common_name(certificate)!r}, not {device.device_id!r}")
    return problems + [f"after the recovery run {p}" for p in pair]


def issued_count(device: Device, tenant: TenantEmulator) -> int:
    return sum(1 for certificate in tenant.issued if _common_name(certificate) == device.device_id)


def lost_answer_problems(device: Device, tenant: TenantEmulator, recovery_exit: int) -> list[str]:
    """Signs that the tenant's answer did not survive the kill: a second certificate (the device asked
    again), or a recovery that finds the one-time password spent."""
    problems, count = [], issued_count(device, tenant)
    if count > 1:
        problems.append(f"the tenant issued {count} certificates over the killed and the recovery run, not 1")
    if recovery_exit == SPENT_PASSWORD:
        problems.append(f"the recovery run exited {SPENT_PASSWORD}: the one-time password is spent and its answer is gone")
    return problems


def issued_problems(device: Device, tenant: TenantEmulator) -> list[str]:
    """The tenant issued something at all (more than one is lost_answer_problems' business)."""
    return [] if issued_count(device, tenant) else ["the tenant issued no certificate over the killed and the recovery run"]


def leftover_problems(device: Device) -> list[str]:
    """No hidden (or `.tmp`) file or folder of the reconciler, and no staged `.new`, outlives a recovery."""
    problems = []
    certs_dir = device.cert.parent
    for folder in sorted({certs_dir, _backup_dir(device)}):
        for parent, dirs, files in os.walk(folder):
            for name in sorted(dirs + files):
                temporary = name.startswith(".") or name.endswith(".tmp")
                if temporary and not any(fnmatch.fnmatch(name, allowed) for allowed in ALLOWED_HIDDEN):
                    problems.append(f"{Path(parent, name).relative_to(certs_dir)} was left behind")
    for staged in (Path(f"{device.key}.new"), Path(f"{device.cert}.new")):
        if os.path.lexists(staged):
            problems.append(f"{staged.name} was left behind")
    pairs = sorted(p.name for p in certs_dir.glob(f".{device.cert.name}.reconcile-pair-*"))
    link = certs_dir / f".{device.cert.name}.reconcile-live"
    live = os.readlink(link) if os.path.islink(link) else None
    problems += [f"{name} was left behind (the switch link points at {live})" for name in pairs if name != live]
    return sorted(set(problems))


def backup_problems(device: Device) -> list[str]:
    """Every backup folder can be restored: its files read completely, and its certificate belongs to
    the key beside it or, when the key was kept, to the live key."""
    problems = []
    live_key, _ = _read_key(device.key, "")
    for folder in sorted(_backup_dir(device).glob("backup-*")):
        # hidden temp files are leftover_problems' business
        names = sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []
        if CERT_FILE not in names:
            problems.append(f"backup {folder.name} has no {CERT_FILE} (it holds {names})")
            continue
        certificate, problem = _read_certificate(folder / CERT_FILE, f"backup {folder.name}/{CERT_FILE}")
        key, key_problem = live_key, None
        if KEY_FILE in names:
            key, key_problem = _read_key(folder / KEY_FILE, f"backup {folder.name}/{KEY_FILE}")
        problems += [p for p in (problem, key_problem) if p]
        if certificate is not None and key is not None and _public_der(key.public_key()) != _public_der(certificate.public_key()):
            problems.append(f"backup {folder.name} cannot be restored: its certificate's key is neither in it nor the live key")
    return problems
