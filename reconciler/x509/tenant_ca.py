"""The tenant CA certificate a desired state names (`tenant.ca_certificate`), read safely, and the
CA a run checks issued certificates against (`TrustedCa`): where it came from, or why there is none."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from reconciler.basics.errors import BadInput
from reconciler.basics.limits import MAX_CA_BYTES
from reconciler.basics.safe_read import FileRefused, read_regular
from reconciler.x509.chain import chain_problem, fingerprint
from reconciler.x509.facts import load_certificates

CACERTS = "cacerts"  # the source of a CA the tenant offered at /.well-known/est/cacerts
UNSET = "tenant.ca_certificate is not set"


def load_tenant_ca(path: Path) -> list[x509.Certificate]:
    """The CA certificates in `path` (PEM, DER or PKCS#7); BadInput naming the file otherwise."""
    try:
        return load_certificates(read_regular(path, MAX_CA_BYTES))
    except FileRefused as err:
        raise BadInput(f"tenant.ca_certificate {err}") from None
    except OSError as err:
        raise BadInput(f"tenant.ca_certificate {path}: cannot read: {err.strerror}") from None
    except ValueError as err:
        raise BadInput(f"tenant.ca_certificate {path}: cannot load: {err}") from None


@dataclass(frozen=True)
class TrustedCa:
    """What issued certificates are checked against: the certificates of `source` (a file path or
    `cacerts`), or nothing — then `unverified_because` says why, and the chain is not checked."""

    certificates: tuple[x509.Certificate, ...] = ()
    source: str | None = None
    unverified_because: str | None = None

    @property
    def verified(self) -> bool:
        return bool(self.certificates)

    @property
    def fingerprints(self) -> list[str]:
        return [fingerprint(c) for c in self.certificates]

    def problem_with(self, issued: list[x509.Certificate]) -> str | None:
        """Why `issued` does not chain to this CA; None when it does or when there is no CA."""
        where = "the CA in the tenant's /.well-known/est/cacerts answer" if self.source == CACERTS else f"the CA in tenant.ca_certificate {self.source}"
        return chain_problem(issued, list(self.certificates), where)

    @property
    def warning(self) -> str:
        return (f"the issued certificate's chain is not verified: {self.unverified_because}; set tenant.ca_certificate "
                f"to the tenant CA (`reconcile register --ca-out FILE` fetches it)")

    def as_dict(self) -> dict:
        """The report's `tenant_ca`: which CA is trusted, or that none is."""
        return {"verified": self.verified, "source": self.source, "fingerprints_sha256": self.fingerprints,
                "message": None if self.verified else self.unverified_because}


def configured_ca(path: Path) -> TrustedCa:
    return TrustedCa(tuple(load_tenant_ca(path)), str(path))


def offered_ca(certificates: list[x509.Certificate]) -> TrustedCa:
    if not certificates:
        return TrustedCa(unverified_because=f"{UNSET} and the tenant's /.well-known/est/cacerts answer holds no certificate")
    return TrustedCa(tuple(certificates), CACERTS)


def no_ca(why: str) -> TrustedCa:
    """`why` completes "tenant.ca_certificate is not set and …"."""
    return TrustedCa(unverified_because=f"{UNSET} and {why}")


def configured_trust(path: Path | None) -> TrustedCa:
    """What `reconcile status` can say without asking the tenant."""
    if path is None:
        return TrustedCa(unverified_because=f"{UNSET}; runs check the chain only when the tenant offers its CA at "
                                            "/.well-known/est/cacerts, which Cumulocity does not document")
    return configured_ca(path)
