"""The seams between apply and the outside world: the tenant's CA, the MQTT test connection and
the activation command. apply talks only to these; tests and later layers plug in real ones."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from cryptography import x509

from reconciler.basics.errors import Unavailable
from reconciler.desired.model import DesiredState


class AnswerSink(Protocol):
    """Where the tenant's answer goes (answer_store.AnswerStore): streamed in as it arrives
    (begin/write/end), then made durable (keep)."""

    def begin(self, status: int) -> bool: ...

    def write(self, chunk: bytes) -> None: ...

    def end(self) -> None: ...

    def keep(self, answer: bytes) -> None: ...


class CertificateAuthority(Protocol):
    requests: int  # requests sent so far: a run that sent none was not failed by the tenant

    def enroll(self, csr_der: bytes, one_time_password: str, store: AnswerSink) -> None:
        """First certificate with the one-time password (EST simpleenroll); the answer goes to `store`."""

    def reenroll(self, csr_der: bytes, store: AnswerSink) -> None:
        """Renewal with a device token (EST simplereenroll); the answer goes to `store`."""

    def check_chain(self, issued: list[x509.Certificate]) -> str | None:
        """Why the issued certificate does not chain to the tenant CA, or None (also when the CA is unknown)."""


class _NoAuthority:
    requests = 0

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
