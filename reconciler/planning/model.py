"""What a plan is made of: actions with reasons, and blockers that need a person."""

from enum import Enum
from pathlib import Path
from typing import NamedTuple


class Reason(str, Enum):
    """Machine-readable reasons, one per check of the planner's chain."""

    KEY_MISSING = "KeyMissing"
    KEY_UNREADABLE = "KeyUnreadable"
    KEY_ALGORITHM_MISMATCH = "KeyAlgorithmMismatch"
    CERT_MISSING = "CertMissing"
    CERT_UNREADABLE = "CertUnreadable"
    KEY_CERT_MISMATCH = "KeyCertMismatch"
    COMMON_NAME_MISMATCH = "CommonNameMismatch"
    NOT_YET_VALID = "NotYetValid"
    EXPIRED = "Expired"
    RENEWAL_DUE = "RenewalDue"
    RENEWAL_REQUESTED = "RenewalRequested"  # asked for now (--renew-now, the c8y operation), not due
    CANDIDATE_PENDING = "CandidatePending"
    CANDIDATE_INVALID = "CandidateInvalid"
    PERMISSIONS_DRIFT = "PermissionsDrift"
    OWNER_UNKNOWN = "OwnerUnknown"
    NOT_A_REGULAR_FILE = "NotARegularFile"
    ONE_TIME_PASSWORD_MISSING = "OneTimePasswordMissing"
    TENANT_UNKNOWN = "TenantUnknown"
    DEPENDENCY_MISSING = "DependencyMissing"


class Kind(str, Enum):
    """The idempotent actions apply knows how to carry out."""

    GENERATE_KEY = "generate_key"
    WRITE_CSR = "write_csr"
    ENROLL = "enroll"
    REENROLL = "reenroll"
    VERIFY_CANDIDATE = "verify_candidate"
    STAGE = "stage"
    VERIFY_CONNECTION = "verify_connection"
    BACKUP = "backup"
    PROMOTE = "promote"
    ACTIVATE = "activate"
    FIX_PERMISSIONS = "fix_permissions"
    DISCARD_CANDIDATE = "discard_candidate"
    ROLLBACK = "rollback"  # never planned: apply's answer to a failed activation after a swap


class RenewalRequest(NamedTuple):
    """An explicit request to renew now, although not due: a one-off, never a drift to keep correcting."""

    rotate_key: bool = False  # a new key even if key.rotate_on_renewal is off


class Action(NamedTuple):
    kind: Kind
    reason: Reason
    message: str
    target: Path | None = None  # the file the action writes or checks
    key: Path | None = None  # the private key it works with, where one matters
    with_key: bool = False  # backup/promote: the key moves together with the certificate


class Blocker(NamedTuple):
    """A finding that stops apply: only a person can resolve it."""

    reason: Reason
    message: str


class Plan(NamedTuple):
    actions: tuple = ()  # of Action
    blockers: tuple = ()  # of Blocker
    findings: tuple = ()  # reason codes seen, for reports
    message: str | None = None  # the sentence of the check that fired: what will happen and why
    live_certificate: object = None  # CertificateInfo of the live pair when it works now; else None

    @property
    def live_healthy(self) -> bool:
        """A failed activation after a swap falls back to the live pair only when it works now."""
        return self.live_certificate is not None

    @property
    def converged(self) -> bool:
        return not self.actions and not self.blockers
