"""The tenant CA certificate a desired state names (`tenant.ca_certificate`), read safely."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from reconciler.errors import BadInput
from reconciler.limits import MAX_CA_BYTES
from reconciler.safe_read import FileRefused, read_regular
from reconciler.x509_facts import load_certificates


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
