"""The observed state of a device, as plain data the planner can read without I/O.

Records are NamedTuples rather than dataclasses: they are as immutable and an order of magnitude
cheaper to define, which a no-op run on a converged device pays for at every start.
"""

from pathlib import Path
from typing import NamedTuple

from reconciler.x509.facts import CertificateInfo


class FileInfo(NamedTuple):
    path: Path
    exists: bool
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    special: str | None = None  # why it must be neither read nor replaced: "is a FIFO, ...", unexaminable
    outside: bool = False  # reached from outside the declared directories (a link out, a second hard link): never chmod'ed
    dangling: str | None = None  # a link whose target does not exist: where it points


class KeyFacts(NamedTuple):
    file: FileInfo
    error: str | None = None  # why an existing file cannot be used
    algorithm: str | None = None
    public_key_id: str | None = None

    @property
    def usable(self) -> bool:
        return self.file.exists and self.error is None


class CertFacts(NamedTuple):
    file: FileInfo
    error: str | None = None
    info: CertificateInfo | None = None
    chain_problem: str | None = None  # checked for the candidate when tenant.ca_certificate is set

    @property
    def usable(self) -> bool:
        return self.file.exists and self.error is None and self.info is not None


class Ownership(NamedTuple):
    """The desired owner and group as ids; an error when a name does not exist on this device."""

    uid: int | None = None
    gid: int | None = None
    error: str | None = None


class Observation(NamedTuple):
    key: KeyFacts
    cert: CertFacts
    candidate: CertFacts  # <cert>.new, staged by us or by `tedge cert renew`
    staged_key: KeyFacts  # <key>.new, only during a key rotation
    backups: tuple = ()
    ownership: Ownership = Ownership()
    one_time_password_available: bool = False
    unusable: tuple = ()  # declared paths only a person can fix (a FIFO at the CSR, a file as backup_dir)
    mqtt_library: bool = True  # paho-mqtt importable (activation.verify / renewal.auth mqtt need it)
    activation_command_found: bool = True  # activation.command[0] exists (on PATH)
