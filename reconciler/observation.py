"""The observed state of a device, as plain data the planner can read without I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reconciler.x509_facts import CertificateInfo


@dataclass(frozen=True)
class FileInfo:
    path: Path
    exists: bool
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None


@dataclass(frozen=True)
class KeyFacts:
    file: FileInfo
    error: str | None = None  # why an existing file cannot be used
    algorithm: str | None = None
    public_key_id: str | None = None

    @property
    def usable(self) -> bool:
        return self.file.exists and self.error is None


@dataclass(frozen=True)
class CertFacts:
    file: FileInfo
    error: str | None = None
    info: CertificateInfo | None = None

    @property
    def usable(self) -> bool:
        return self.file.exists and self.error is None and self.info is not None


@dataclass(frozen=True)
class Ownership:
    """The desired owner and group as ids; an error when a name does not exist on this device."""

    uid: int | None = None
    gid: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Observation:
    key: KeyFacts
    cert: CertFacts
    candidate: CertFacts  # <cert>.new, staged by us or by `tedge cert renew`
    staged_key: KeyFacts  # <key>.new, only during a key rotation
    backups: tuple[Path, ...] = ()
    ownership: Ownership = field(default_factory=Ownership)
    one_time_password_available: bool = False
