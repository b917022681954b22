"""The seams between apply and the outside world: the tenant's CA, the MQTT test connection and
the activation command. apply talks only to these; tests and later layers plug in real ones."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from cryptography import x509

from reconciler.errors import Unavailable
from reconciler.spec import DesiredState


Keep = Callable[[bytes], None]  # makes the tenant's answer durable; called at once on a 2xx


class CertificateAuthority(Protocol):
    def enroll(self, csr_der: bytes, one_time_password: str, keep: Keep) -> None:
        """First certificate with the one-time password (EST simpleenroll); the answer goes to `keep`."""

    def reenroll(self, csr_der: bytes, keep: Keep) -> None:
        """Renewal with a device token (EST simplereenroll); the answer goes to `keep`."""

    def check_chain(self, issued: list[x509.Certificate]) -> str | None:
        """Why the issued certificate does not chain to the tenant CA, or None (also when the CA is unknown)."""


class _NoAuthority:
    def __init__(self, spec: DesiredState):
        self.spec = spec

    def _unavailable(self, *_args):
        raise Unavailable("talking to the tenant is not available in this build of the reconciler")

    enroll = reenroll = _unavailable

    def check_chain(self, issued):
        return None


def _no_connection_test(spec: DesiredState, cert: Path, key: Path) -> None:
    raise Unavailable("the MQTT test connection is not available in this build; set activation.verify: none")


@dataclass(frozen=True)
class Backends:
    authority: Callable[[DesiredState], CertificateAuthority] = _NoAuthority
    test_connection: Callable[[DesiredState, Path, Path], None] = _no_connection_test
