"""Plain facts about keys and certificates, read with `cryptography` and nothing else."""

import hashlib
import warnings
from datetime import datetime
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

_CURVES = {"secp256r1": "ec-p256", "secp384r1": "ec-p384"}


def key_algorithm(public_key) -> str:
    """`ec-p256`, `rsa-2048`, ...; other kinds get a descriptive name that matches no spec value."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return _CURVES.get(public_key.curve.name, f"ec-{public_key.curve.name}")
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"rsa-{public_key.key_size}"
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(public_key, ed448.Ed448PublicKey):
        return "ed448"
    if isinstance(public_key, dsa.DSAPublicKey):
        return f"dsa-{public_key.key_size}"
    return "unknown"


def public_key_id(public_key) -> str:
    """SHA-256 over the SubjectPublicKeyInfo: equal ids mean the same key pair."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def name_text(name: x509.Name) -> str:
    """RFC 4514 text of a name. The real tenant CA's issuer has C=United States, which cryptography
    reads with a UserWarning (a country should be two letters); that is expected, not an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return name.rfc4514_string()


def common_name(name: x509.Name) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


class CertificateInfo(NamedTuple):
    subject_cn: str | None
    subject: str
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    fingerprint_sha256: str
    public_key_id: str
    key_algorithm: str


def certificate_info(cert: x509.Certificate) -> CertificateInfo:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        subject, issuer = cert.subject, cert.issuer
    public_key = cert.public_key()
    return CertificateInfo(
        subject_cn=common_name(subject),
        subject=name_text(subject),
        issuer=name_text(issuer),
        serial=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
        public_key_id=public_key_id(public_key),
        key_algorithm=key_algorithm(public_key),
    )


def load_certificates_pem(data: bytes) -> list[x509.Certificate]:
    """All certificates of a PEM file, leaf first. Raises ValueError when there is none."""
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ValueError("no PEM certificate in the file")
    return x509.load_pem_x509_certificates(data)


def load_private_key_pem(data: bytes):
    """The private key of a PEM file. Raises ValueError (or TypeError for encrypted keys)."""
    if b"PRIVATE KEY" not in data:
        raise ValueError("no PEM private key in the file")
    return serialization.load_pem_private_key(data, password=None)


def certificates_pem(certs: list[x509.Certificate]) -> bytes:
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)
