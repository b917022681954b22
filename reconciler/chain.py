"""Whether issued certificates chain to the tenant CA (pure; shared by observe and apply)."""

from __future__ import annotations

import warnings

from cryptography import x509

MAX_CHAIN = 5


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except Exception:  # InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm on hostile input
        return False


def chain_problem(issued: list[x509.Certificate], anchors: list[x509.Certificate]) -> str | None:
    """None when the leaf `issued[0]` reaches one of `anchors` through `issued[1:]`; else why not."""
    if not anchors:
        return None
    with warnings.catch_warnings():  # the real tenant CA's name reads with a warning
        warnings.simplefilter("ignore")
        try:
            return _walk(issued, anchors)
        except ValueError:  # names are parsed only when compared: a malformed one shows here
            return "its chain holds a malformed name"


def _walk(issued: list[x509.Certificate], anchors: list[x509.Certificate]) -> str | None:
    current, pool = issued[0], list(issued[1:])
    for _ in range(MAX_CHAIN):
        for anchor in anchors:
            if current.issuer == anchor.subject and _signed_by(current, anchor):
                return None
        parent = next((c for c in pool if c.subject == current.issuer and _signed_by(current, c)), None)
        if parent is None:
            break
        pool.remove(parent)
        current = parent
    return "it does not chain to the tenant CA"
