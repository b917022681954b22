"""Reading the tenant's enrollment answer in every form the contract allows (warnings are errors here)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization

from c8y_emulator.pkcs7_writer import certs_only
from reconciler.x509.answer import certificates_from_answer
from reconciler.x509.facts import certificate_info
from reconciler.x509.pkcs7 import certificates_from_pkcs7
from tests.conftest import ROOT
from tests.device_files import device_name, shared_ca, write_key

FIXTURE = ROOT / "tests" / "fixtures" / "c8y" / "simpleenroll-response.b64"  # a real tenant's answer
FIXTURE_SHA256 = "12d03d8a10704cce03977f477b3cc02f7958a062d088f9eada2a34376618cb04"


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    key = write_key(tmp_path_factory.mktemp("k") / "key.pem")
    return shared_ca().issue(key.public_key(), device_name("gw-0001"))


def test_real_tenant_answer_parses_with_warnings_as_errors():
    body = FIXTURE.read_bytes()
    assert base64.b64decode(body)[:2] == b"\x30\x80"  # BER, indefinite length
    (cert,) = certificates_from_answer(body)
    info = certificate_info(cert)
    assert info.subject_cn == "didier-device-001"
    assert info.issuer == "CN=management,O=Cumulocity,C=United States"
    assert info.key_algorithm == "ec-p256"
    assert info.not_after.year == 2026


def test_emulator_writes_ber_like_the_real_tenant(issued):
    ber = certs_only([issued])
    real = base64.b64decode(FIXTURE.read_bytes())
    assert ber[:2] == real[:2] == b"\x30\x80"
    assert ber[2:15] == real[2:15]  # content type signedData, [0] indefinite
    assert certificates_from_pkcs7(ber) == [issued]


def test_der_pkcs7_parses(issued):
    assert certificates_from_pkcs7(certs_only([issued, shared_ca().certificate], indefinite=False)) == [issued, shared_ca().certificate]


@pytest.mark.parametrize(
    "encode",
    [
        lambda c: base64.encodebytes(certs_only([c])),  # base64 lines, no Content-Transfer-Encoding needed
        lambda c: base64.b64encode(certs_only([c])),  # one line, no trailing newline
        lambda c: base64.b64encode(certs_only([c])) + b"\r\n",
        lambda c: certs_only([c]),  # raw binary BER
        lambda c: certs_only([c], indefinite=False),  # raw binary DER
        lambda c: c.public_bytes(serialization.Encoding.PEM),  # Accept: application/pkcs10
        lambda c: b"-----BEGIN PKCS7-----\n" + base64.encodebytes(certs_only([c])) + b"-----END PKCS7-----\n",
        lambda c: base64.b64encode(c.public_bytes(serialization.Encoding.DER)),  # a bare DER certificate
    ],
    ids=["base64-lines", "base64-one-line", "base64-crlf", "raw-ber", "raw-der", "pem", "pkcs7-pem", "base64-der-cert"],
)
def test_every_allowed_form_yields_the_certificate(issued, encode):
    assert certificates_from_answer(encode(issued))[0] == issued


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "empty"),
        (b"<html><title>502 Bad Gateway</title></html>", "neither PKCS#7 nor a certificate"),
        (b"MIAGCSqGSIb3DQEHAqCAMIACAQExADALBgkqhkiG9w0BBwGggDCCAXkw", "not a PKCS#7"),  # truncated
        (b"SGVsbG8=", "not a PKCS#7"),
        (b"!!!notbase64", "neither"),
        (base64.b64encode(b"\x30\x80\x06\x03\x2a\x03\x04\x00\x00"), "not signedData"),
        (base64.b64encode(b"\x30\x84\xff\xff\xff\xff"), "not a PKCS#7"),
    ],
    ids=["empty", "html", "truncated-ber", "base64-text", "garbage", "other-content-type", "huge-length"],
)
def test_broken_answers_are_clear_value_errors(body, message):
    with pytest.raises(ValueError, match=message):
        certificates_from_answer(body)


def test_deeply_nested_ber_is_refused():
    nested = b"\x30\x80" * 100 + b"\x00\x00" * 100
    with pytest.raises(ValueError, match="not a PKCS#7"):
        certificates_from_pkcs7(nested)


def test_fixture_is_the_real_tenants_answer_unchanged():
    # A real tenant's bytes cannot be regenerated: an edit (say, by a formatter) would silently
    # turn the tests above into tests of our own writer.
    assert FIXTURE.is_file(), f"expected the shared fixture at {FIXTURE}"
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == FIXTURE_SHA256
