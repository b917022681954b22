"""PKCS#7 certs-only messages as the real tenant writes them: BER with indefinite lengths."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from reconciler.x509.ber import encode_length
from reconciler.x509.pkcs7 import SIGNED_DATA_OID

DATA_OID = bytes.fromhex("2a864886f70d010701")  # 1.2.840.113549.1.7.1
EOC = b"\x00\x00"


def _definite(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(content)) + content


def _indefinite(tag: int, content: bytes) -> bytes:
    return bytes([tag, 0x80]) + content + EOC


def certs_only(certificates: list[x509.Certificate], indefinite: bool = True) -> bytes:
    """SignedData with no signers and the given certificates; BER (like the tenant) or DER."""
    wrap = _indefinite if indefinite else _definite
    ders = b"".join(c.public_bytes(serialization.Encoding.DER) for c in certificates)
    signed_data = (
        _definite(0x02, b"\x01")  # version 1
        + _definite(0x31, b"")  # digestAlgorithms: none
        + _definite(0x30, _definite(0x06, DATA_OID))  # encapContentInfo: data, no content
        + wrap(0xA0, ders)  # [0] certificates
        + _definite(0x31, b"")  # signerInfos: none
    )
    return wrap(0x30, _definite(0x06, SIGNED_DATA_OID) + wrap(0xA0, wrap(0x30, signed_data)))
