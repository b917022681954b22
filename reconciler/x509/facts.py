"""Plain facts about keys and certificates, read with `cryptography` and nothing else."""

import hashlib
import re
import warnings
from datetime import datetime
from typing import NamedTuple

from cryptography import x509
from cryptography.exceptions import InternalError, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

# What cryptography raises for input it cannot read (besides ValueError): a key type it does not
# support, and TypeError where an object of an unexpected kind turns up. Nothing else is caught:
# any other exception is a bug, and the fuzzers (tests/test_fuzz_*.py) must see it.
BAD_INPUT = (TypeError, UnsupportedAlgorithm)
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
    # DSA, X25519, X448: named by their class. Not `dsa.DSAPublicKey`: cryptography 51 warns when
    # that name is merely read, and warnings are errors in the tests.
    return type(public_key).__name__.removesuffix("PublicKey").lower() or "unknown"


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
    """The facts of a parsed certificate. ValueError for one that cannot be described (an unknown
    key type, a malformed name): whatever `cryptography` raises for it, and its warnings, stay here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _certificate_info(cert)
    except ValueError:
        raise
    except BAD_INPUT as err:  # only what cryptography documents for bad input; anything else is a bug to see
        raise ValueError(f"the certificate cannot be read: {type(err).__name__}: {err}") from None


def _certificate_info(cert: x509.Certificate) -> CertificateInfo:
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


PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """All certificates of a file or answer, leaf first, in any encoding the tool reads or writes:
    PEM, DER, or PKCS#7 certs-only (PEM-armoured, base64, DER or BER). ValueError when there is none."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if PEM_CERTIFICATE in data:
                try:
                    return x509.load_pem_x509_certificates(data)
                except ValueError:
                    raise ValueError("a PEM certificate in it is malformed") from None
            from reconciler.x509.answer import certificates_from_answer  # rare: not on a no-op's path

            return certificates_from_answer(data)
    except ValueError as err:
        raise ValueError(plain(err)) from None
    except x509.InvalidVersion as err:  # cryptography's, and no ValueError
        raise ValueError(f"a certificate of an unknown X.509 version ({err.parsed_version})") from None
    except BAD_INPUT as err:
        raise ValueError(f"unreadable certificate data ({type(err).__name__})") from None


def plain(err: Exception) -> str:
    """An error's first sentence, without the parser internals cryptography appends (ParseError { ... })."""
    text = re.sub(r"error parsing asn1 value:.*", "malformed DER", str(err)).splitlines()[0] if str(err) else "unreadable"
    return text.split(". ")[0].rstrip(".")


class EncryptedKey(ValueError):
    """A private key protected by a passphrase: the reconciler cannot use it unattended."""


def load_private_key(data: bytes):
    """The private key of a PEM or DER (PKCS#8, PKCS#1, SEC1) file. ValueError when there is none
    (EncryptedKey when it needs a passphrase)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if b"-----BEGIN" in data and b"PRIVATE KEY" in data:  # PEM (PKCS#8, PKCS#1, SEC1, encrypted)
                return serialization.load_pem_private_key(data, password=None)
            return serialization.load_der_private_key(data, password=None)
    except TypeError:
        raise EncryptedKey("the key is encrypted; only unencrypted keys are supported") from None
    except ValueError as err:
        raise ValueError(f"not a private key ({plain(err)})") from None
    except UnsupportedAlgorithm as err:
        raise ValueError(f"not a usable private key ({type(err).__name__}: {err})") from None
    except InternalError:  # OpenSSL's own failure on a malformed key (an X448 key 32 bytes long, found by fuzzing)
        raise ValueError("not a private key (OpenSSL cannot decode it)") from None


def certificates_pem(certs: list[x509.Certificate]) -> bytes:
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)
