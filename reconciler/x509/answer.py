"""Read the certificate out of whatever form an EST answer takes.

The contract allows: base64 PKCS#7 certs-only, DER or BER (the real tenant sends BER with
indefinite lengths), with or without `Content-Transfer-Encoding: base64`; raw binary PKCS#7;
a PEM certificate (with `Accept: application/pkcs10`); PEM-armoured PKCS#7.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography import x509

from reconciler.x509.pkcs7 import certificates_from_pkcs7

_BASE64 = re.compile(rb"^[A-Za-z0-9+/=\s]+$")
_PKCS7_BEGIN = re.compile(rb"-----BEGIN (?:PKCS7|CMS)-----")
_PKCS7_END = re.compile(rb"-----END (?:PKCS7|CMS)-----")


def _armoured(text: bytes) -> bytes | None:
    """What lies between the first PKCS#7 BEGIN line and the END after it. Searched once each: one
    lazy `BEGIN(.*?)END` pattern rescans to the end from every BEGIN without an END (quadratic)."""
    begin = _PKCS7_BEGIN.search(text)
    end = _PKCS7_END.search(text, begin.end()) if begin else None
    return text[begin.end():end.start()] if end else None


def _from_der(data: bytes) -> list[x509.Certificate]:
    try:
        return certificates_from_pkcs7(data)
    except ValueError as pkcs7_error:
        try:
            return [x509.load_der_x509_certificate(data)]
        except (ValueError, x509.InvalidVersion):
            raise pkcs7_error from None


def certificates_from_answer(body: bytes) -> list[x509.Certificate]:
    """The certificates of an enrollment answer, leaf first. ValueError says why there are none."""
    try:
        return _certificates(body)
    except x509.InvalidVersion as err:  # cryptography's, and no ValueError
        raise ValueError(f"a certificate of an unknown X.509 version ({err.parsed_version})") from None


def _certificates(body: bytes) -> list[x509.Certificate]:
    text = body.strip()
    if not text:
        raise ValueError("the answer is empty")
    if b"-----BEGIN CERTIFICATE-----" in text:
        return x509.load_pem_x509_certificates(text)
    armoured = _armoured(text)
    if armoured is not None:
        text = armoured.strip()
    if _BASE64.match(text):
        try:
            decoded = base64.b64decode(b"".join(text.split()), validate=True)
        except binascii.Error:
            raise ValueError("the answer looks like base64 but does not decode") from None
        return _from_der(decoded)
    if text[:1] == b"\x30":
        return _from_der(body)
    raise ValueError("the answer is neither PKCS#7 nor a certificate")
