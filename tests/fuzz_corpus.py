"""The real samples the fuzz tests mutate: the real tenant's answer, answers the emulator's writer
makes from committed certificates, and keys in every form the tool reads. All bytes are the same
on every run (see tests/fixtures/fuzz/make_corpus.py), so a case reproduces from its seed and index."""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

from c8y_emulator.pkcs7_writer import certs_only
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = FIXTURES / "fuzz"
REAL_ANSWER = FIXTURES / "c8y" / "simpleenroll-response.b64"


@lru_cache(maxsize=None)
def chain() -> list[x509.Certificate]:
    """Device certificate (EC P-256), intermediate (EC P-384), tenant-like root (C=United States)."""
    return x509.load_pem_x509_certificates((CORPUS / "chain-ec.pem").read_bytes())


def root() -> x509.Certificate:
    return chain()[-1]


@lru_cache(maxsize=None)
def rsa_leaf() -> x509.Certificate:
    return x509.load_pem_x509_certificate((CORPUS / "leaf-rsa.pem").read_bytes())


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


@lru_cache(maxsize=None)
def answers() -> tuple[bytes, ...]:
    """Enrollment answers in every form the contract allows, chains of one to three certificates."""
    leaf, intermediate, top = chain()
    pair = [rsa_leaf(), top]
    return (
        REAL_ANSWER.read_bytes(),  # base64 of BER, 64-character lines
        base64.b64encode(certs_only([leaf])),  # one line, like go-c8y
        base64.encodebytes(certs_only(chain(), indefinite=False)),  # DER PKCS#7, three certificates
        certs_only(pair),  # raw BER
        certs_only(chain(), indefinite=False),  # raw DER
        _pem(leaf),  # Accept: application/pkcs10
        _pem(*chain()),
        b"-----BEGIN PKCS7-----\n" + base64.encodebytes(certs_only(pair)) + b"-----END PKCS7-----\n",
        base64.b64encode(_der(intermediate)),  # a bare certificate
        _der(rsa_leaf()),
    )


@lru_cache(maxsize=None)
def answer_insides() -> tuple[bytes, ...]:
    """The DER and BER inside the answers: splice material for mutations below the armour."""
    real = base64.b64decode(REAL_ANSWER.read_bytes())
    return (real, certs_only([chain()[0]]), certs_only(chain(), indefinite=False)) + tuple(_der(c) for c in chain())


def _fixed_ec_key(curve: ec.EllipticCurve, scalar: int):
    return ec.derive_private_key(scalar, curve)  # deterministic, unlike generate_private_key


@lru_cache(maxsize=None)
def keys() -> tuple[bytes, ...]:
    """Private keys as they may lie on disk: PEM PKCS#8, PKCS#1, SEC1, DER, encrypted; EC and RSA,
    and two kinds the tool never makes, whose facts the observer must still read."""
    rsa_pem = (CORPUS / "rsa-1024.key.pem").read_bytes()
    rsa_key = serialization.load_pem_private_key(rsa_pem, password=None)
    p256 = _fixed_ec_key(ec.SECP256R1(), 0x5EED_0001_C0FFEE)
    p384 = _fixed_ec_key(ec.SECP384R1(), 0x5EED_0002_C0FFEE)
    pem, der = serialization.Encoding.PEM, serialization.Encoding.DER
    pkcs8, legacy = serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL
    plain = serialization.NoEncryption()
    return (
        rsa_pem,  # PKCS#1 PEM, with a line of text before it
        rsa_key.private_bytes(pem, pkcs8, plain),
        rsa_key.private_bytes(der, legacy, plain),  # PKCS#1 DER
        p256.private_bytes(pem, pkcs8, plain),  # what `reconcile` writes
        p256.private_bytes(pem, legacy, plain),  # SEC1 "EC PRIVATE KEY"
        p256.private_bytes(der, pkcs8, plain),
        p384.private_bytes(der, legacy, plain),  # SEC1 DER
        (CORPUS / "ec-p256-encrypted.key.pem").read_bytes(),  # PKCS#8 encrypted
        (CORPUS / "rsa-1024-encrypted-legacy.key.pem").read_bytes(),  # Proc-Type: 4,ENCRYPTED
        ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))).private_bytes(pem, pkcs8, plain),
        x25519.X25519PrivateKey.from_private_bytes(bytes(range(32, 64))).private_bytes(der, pkcs8, plain),
    )
