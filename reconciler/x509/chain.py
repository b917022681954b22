"""Whether issued certificates chain to the tenant CA (pure; shared by observe and apply).

A trusted CA certificate stands for its key: Cumulocity renews its CA yearly with the same key,
and a device still holding last year's CA certificate must accept what the renewed one signs. So
the last link is checked by signature with the anchor's public key alone — not by the anchor's
validity, name or key identifier (the tenant's certificates carry no extensions anyway).
"""

from __future__ import annotations

import warnings

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

MAX_CHAIN = 5
BAD_INPUT = (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm)  # what cryptography raises for hostile input


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def signed_with(cert: x509.Certificate, public_key) -> bool:
    """Whether `public_key` made `cert`'s signature (names and validity aside)."""
    try:
        params, data, signature = cert.signature_algorithm_parameters, cert.tbs_certificate_bytes, cert.signature
        if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(params, ec.ECDSA):
            public_key.verify(signature, data, params)
        elif isinstance(public_key, rsa.RSAPublicKey) and isinstance(params, (padding.PKCS1v15, padding.PSS)):
            public_key.verify(signature, data, params, cert.signature_hash_algorithm)
        elif isinstance(public_key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)) and params is None:
            public_key.verify(signature, data)
        else:
            return False  # the key cannot have made this kind of signature
        return True
    except BAD_INPUT:
        return False


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """An intermediate from the answer is not trusted: its name must match as well as its signature."""
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except BAD_INPUT:
        return False


def chain_problem(issued: list[x509.Certificate], anchors: list[x509.Certificate],
                  where: str = "tenant.ca_certificate") -> str | None:
    """None when the leaf `issued[0]` reaches the key of one of `anchors` through `issued[1:]`;
    else why not, naming both sides' fingerprints and the remedy. `where` says where the anchors
    came from (the option, or the tenant's answer)."""
    if not anchors:
        return None
    with warnings.catch_warnings():  # the real tenant CA's name reads with a warning
        warnings.simplefilter("ignore")
        try:
            if _reaches(issued, anchors):
                return None
            issuer = issued[0].issuer.rfc4514_string()
        except (ValueError, TypeError):  # names are parsed when read: one cryptography cannot build shows here
            return "its chain holds a malformed name"
    known = ", ".join(fingerprint(a) for a in anchors)
    return (f"it does not chain to the tenant CA: not signed by the key of {where} (SHA-256 {known}); the certificate "
            f"(SHA-256 {fingerprint(issued[0])}) names the issuer {issuer}: if the tenant's CA key changed, "
            f"replace tenant.ca_certificate with its current CA certificate (`reconcile register --ca-out FILE`)")


def _public_key(cert: x509.Certificate):
    try:
        return cert.public_key()
    except BAD_INPUT:  # a key type cryptography cannot load signs nothing we can check
        return None


def _reaches(issued: list[x509.Certificate], anchors: list[x509.Certificate]) -> bool:
    current, pool = issued[0], list(issued[1:])
    keys = [key for key in map(_public_key, anchors) if key is not None]
    for _ in range(MAX_CHAIN):
        if any(signed_with(current, key) for key in keys):
            return True
        parent = next((c for c in pool if c.subject == current.issuer and _signed_by(current, c)), None)
        if parent is None:
            return False
        pool.remove(parent)
        current = parent
    return False
