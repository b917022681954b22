"""Certificates out of a PKCS#7 "certs-only" SignedData message, DER or BER."""

from __future__ import annotations

from cryptography import x509

from reconciler.x509.ber import BerError, children, read_element, to_definite

SIGNED_DATA_OID = bytes.fromhex("2a864886f70d010702")  # 1.2.840.113549.1.7.2
UNIVERSAL, CONTEXT = 0, 2
SEQUENCE, OID = 16, 6


def certificates_from_pkcs7(data: bytes) -> list[x509.Certificate]:
    """The certificates of a certs-only message, in their order. ValueError when it is not one."""
    seen: dict = {}  # one walk of the message: every element read once
    try:
        info = read_element(data, 0, seen=seen)
        if (info.tag_class, info.tag) != (UNIVERSAL, SEQUENCE):
            raise BerError("not a ContentInfo sequence")
        content_type, *rest = children(data, info, seen=seen)
        if (content_type.tag_class, content_type.tag) != (UNIVERSAL, OID) or (
            data[content_type.content_start : content_type.content_end] != SIGNED_DATA_OID
        ):
            raise BerError("content type is not signedData")
        if not rest or (rest[0].tag_class, rest[0].tag) != (CONTEXT, 0):
            raise BerError("no signedData content")
        (signed_data,) = children(data, rest[0], seen=seen)
        certs = []
        for field in children(data, signed_data, seen=seen):
            if (field.tag_class, field.tag, field.constructed) == (CONTEXT, 0, True):
                for cert in children(data, field, seen=seen):
                    raw = to_definite(data, cert, seen=seen) if cert.indefinite else data[cert.start : cert.end]
                    certs.append(x509.load_der_x509_certificate(raw))
    except (BerError, ValueError, IndexError, x509.InvalidVersion) as err:
        raise ValueError(f"not a PKCS#7 certs-only message: {err}") from None
    if not certs:
        raise ValueError("the PKCS#7 message holds no certificate")
    return certs
