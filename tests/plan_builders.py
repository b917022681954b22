"""Builders of desired states and observations for planner tests: no disk, no clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from reconciler.desired.model import DesiredState
from reconciler.desired.resolve import resolve
from reconciler.desired.tedge_toml import TedgeConfig
from reconciler.planning.observation import CertFacts, FileInfo, KeyFacts, Observation, Ownership
from reconciler.x509.facts import CertificateInfo

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
KEY_A = "a" * 64
KEY_B = "b" * 64
CERTS = Path("/etc/tedge/device-certs")
KEY_PATH = CERTS / "tedge-private-key.pem"
CERT_PATH = CERTS / "tedge-certificate.pem"


def spec(**sections) -> DesiredState:
    data = {"device_id": "gw-0001", "tenant": {"url": "example.cumulocity.com"}, **sections}
    return resolve(DesiredState.model_validate(data), TedgeConfig(config_dir=Path("/etc/tedge")), Path("/"))


def key(exists=True, error=None, algorithm="ec-p256", key_id=KEY_A, mode=0o600, uid=0, path=KEY_PATH) -> KeyFacts:
    if not exists:
        return KeyFacts(FileInfo(path, exists=False))
    return KeyFacts(FileInfo(path, True, mode, uid, 0), error=error, algorithm=algorithm, public_key_id=key_id)


def no_key(path=KEY_PATH) -> KeyFacts:
    return key(exists=False, path=path)


def cert(
    cn="gw-0001",
    key_id=KEY_A,
    not_before=NOW - 100 * DAY,
    lifetime=365 * DAY,
    not_after=None,
    error=None,
    mode=0o644,
    uid=0,
    path=CERT_PATH,
    serial="01",
) -> CertFacts:
    info = None
    if error is None:
        info = CertificateInfo(
            subject_cn=cn,
            subject=f"CN={cn}",
            issuer="CN=management,O=Cumulocity",
            serial=serial,
            not_before=not_before,
            not_after=not_after or not_before + lifetime,
            fingerprint_sha256="f" * 64,
            public_key_id=key_id,
            key_algorithm="ec-p256",
        )
    return CertFacts(FileInfo(path, True, mode, uid, 0), error=error, info=info)


def no_cert(path=CERT_PATH) -> CertFacts:
    return CertFacts(FileInfo(path, exists=False))


def observation(
    key_facts=None, cert_facts=None, candidate=None, staged_key=None, otp=True, ownership=None
) -> Observation:
    return Observation(
        key=key_facts if key_facts is not None else key(),
        cert=cert_facts if cert_facts is not None else cert(),
        candidate=candidate if candidate is not None else no_cert(Path(str(CERT_PATH) + ".new")),
        staged_key=staged_key if staged_key is not None else no_key(Path(str(KEY_PATH) + ".new")),
        ownership=ownership or Ownership(),
        one_time_password_available=otp,
    )


def candidate(**kwargs) -> CertFacts:
    kwargs.setdefault("not_before", NOW - DAY)
    kwargs.setdefault("serial", "02")
    return cert(path=Path(str(CERT_PATH) + ".new"), **kwargs)


def staged_key(**kwargs) -> KeyFacts:
    return key(path=Path(str(KEY_PATH) + ".new"), **kwargs)


def special(info: FileInfo, kind: str) -> FileInfo:
    """The same path holding something that is not a regular file (a FIFO, a directory, ...)."""
    return info._replace(exists=True, special=f"is {kind}, not a regular file")
