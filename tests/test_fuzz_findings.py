"""Hostile inputs the fuzz tests found, each kept as a test of the promise it broke.

All are fixed; each is a plain regression test. A new finding that cannot be fixed at once gets a
strict xfail here and a `Known` entry passed to the fuzz test it came from (fuzz_harness.Known).
"""

from __future__ import annotations

import base64
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from c8y_emulator.pkcs7_writer import DATA_OID, certs_only
from reconciler.basics.durations import parse_duration
from reconciler.basics.errors import BadInput, TenantRefused
from reconciler.c8y.admin import load_admin_credentials
from reconciler.c8y.est import judge, retry_after_seconds
from reconciler.c8y.http import Answer, Transient, new_session, send
from reconciler.c8y.registration import DeviceRegistration, register_devices, registration_status
from reconciler.cli.register_input import devices_from_file
from reconciler.desired.load import load_desired_state
from reconciler.desired.resolve import resolve
from reconciler.desired.tedge_toml import load_tedge_config
from reconciler.x509.answer import certificates_from_answer
from reconciler.x509.chain import chain_problem
from reconciler.x509.facts import key_algorithm, load_certificates, load_private_key
from reconciler.x509.pkcs7 import SIGNED_DATA_OID
from tests.ber_mutations import elements, length_field, replace
from tests.fuzz_corpus import chain, root
from tests.fuzz_mutators import answer_mutator
from tests.http_text import admin_answered_by
from tests.replay_server import ReplayServer

JSON = {"content-type": "application/json"}
JSON_BOMB = b"[" * 30_000  # under the 32 KiB answer cap (limits.py); json recurses once per bracket


@pytest.mark.parametrize("status", [404, 500])
def test_an_answer_nested_deeper_than_python_recurses_is_not_json(status):
    try:
        verdict = judge(Answer(status, JSON, JSON_BOMB), enrolling=False)
    except TenantRefused as refused:
        assert "[[[" in refused.message  # the first line of the body, as the tenant's words
    else:
        assert verdict.transient


@pytest.mark.parametrize("value", ["\xb2", "\xb9", "1\xb2"])  # "²", "¹": requests decodes headers as Latin-1
def test_a_retry_after_of_latin1_digits_is_unreadable_not_an_error(value):
    assert retry_after_seconds(value) is None
    assert judge(Answer(503, {"retry-after": value}, b""), enrolling=True).retry_after is None


@pytest.mark.parametrize(
    "value",
    ["Thu, 01 Jan 99999999999999999999 12:00:30 GMT", "Thu, 01 Jan 2026 99999999999999999999:00:30 GMT",
     "Thu, 01 Jan 2026 12:00:30 +99999999999999999999"],
)
def test_a_retry_after_date_with_numbers_too_large_is_unreadable_not_an_error(value):
    assert retry_after_seconds(value) is None


@pytest.mark.parametrize(
    "toml",
    [b"a = " + b"[" * 2000 + b"]" * 2000, b"a = " + b"{b=" * 2000 + b"1" + b"}" * 2000, b"a = 1" + b"0" * 5000],
    ids=["nested-arrays", "nested-tables", "5000-digit-integer"],
)
def test_tedge_toml_too_deep_or_with_too_long_a_number_is_bad_input(tmp_path, toml):
    (tmp_path / "tedge.toml").write_bytes(toml)
    with pytest.raises(BadInput, match="not valid TOML"):
        load_tedge_config(tmp_path)


@pytest.mark.parametrize(
    "yaml_text",
    [
        b"device_id: !!float gw-0001\n",  # ValueError from the float constructor
        b"device_id: !!int 0x\n",
        b"device_id: !!timestamp gw-0001\n",  # AttributeError: its regular expression did not match
        b"device_id: !!float\n",  # IndexError: an empty float
        b"? [a]\n: 1\n",  # TypeError: a list as key, seen by the duplicate-key check before yaml's own
        b"device_id: gw-0001\nq: " + b"{a: " * 450 + b"1" + b"}" * 450,  # RecursionError while constructing
        b"device_id: gw-0001\npaths: " + b"[" * 500 + b"]" * 500,  # RecursionError while finding the line
    ],
    ids=["float-tag", "int-tag", "timestamp-tag", "empty-float", "list-as-key", "deep-mappings", "deep-lists"],
)
def test_a_desired_state_yaml_can_only_be_bad_input(tmp_path, yaml_text):
    path = tmp_path / "reconcile.yaml"
    path.write_bytes(yaml_text)
    with pytest.raises(BadInput):
        load_desired_state(path)


@pytest.mark.parametrize(
    "yaml_text",
    [b"!!float ", b"- {id: !!timestamp gw-0001}\n", b"- {id: !!int 0x}\n", b"[" * 600 + b"]" * 600],
    ids=["empty-float", "timestamp-tag", "int-tag", "deep-lists"],
)
def test_a_device_list_yaml_can_only_be_bad_input(tmp_path, yaml_text):
    path = tmp_path / "devices.yaml"
    path.write_bytes(yaml_text)
    with pytest.raises(BadInput, match="not valid YAML|expected an id or a mapping"):
        devices_from_file(path, "thin-edge.io")


def test_a_bulk_report_nested_deeper_than_python_recurses_is_no_report(monkeypatch):
    answers = iter([Answer(404, JSON, b"{}")])  # the identity look-up first: the device has not enrolled
    admin = admin_answered_by(monkeypatch, lambda: next(answers, Answer(201, JSON, JSON_BOMB)))
    with pytest.raises(TenantRefused, match="without a JSON report"):
        register_devices(admin, [DeviceRegistration("gw-0001", "password-0001")])


def test_an_identity_answer_nested_deeper_than_python_recurses_is_refused(monkeypatch):
    admin = admin_answered_by(monkeypatch, lambda: Answer(200, JSON, JSON_BOMB))
    with pytest.raises(TenantRefused, match="no managedObject.id"):
        register_devices(admin, [DeviceRegistration("gw-0001", "password-0001")])


def test_a_registration_status_nested_deeper_than_python_recurses_is_unexpected(monkeypatch):
    with pytest.raises(TenantRefused, match="unexpected answer"):
        registration_status(admin_answered_by(monkeypatch, lambda: Answer(200, JSON, JSON_BOMB)), "gw-0001")


def test_an_answer_with_a_tag_number_of_190000_bytes_is_refused_at_once():
    hostile = base64.b64encode(b"\x3f" + b"\xff" * 190_000 + b"\x7f\x00")  # took 7 s: a big int shifted per byte
    started = time.process_time()
    with pytest.raises(ValueError, match="tag"):
        certificates_from_answer(hostile)
    assert time.process_time() - started < 1.0  # a bound against super-linear work, not a benchmark


# ---- Found by fuzzing (or by reading a parser), fixed in the engine afterwards ----

V3, V2 = bytes.fromhex("a003020102"), bytes.fromhex("a003020101")  # [0] { INTEGER 2 }, [0] { INTEGER 1 }


def _x509_v2(der: bytes) -> bytes:
    """Certificates with the version field 1 (X.509 v2): cryptography knows only v1 and v3."""
    assert der.count(V3) == 1
    return der.replace(V3, V2)


@pytest.mark.parametrize("form", ["pkcs7-ber-base64", "der-base64", "pem"])
def test_an_x509_v2_certificate_is_a_value_error(form):
    der = _x509_v2(chain()[1].public_bytes(serialization.Encoding.DER))
    body = {
        "pkcs7-ber-base64": base64.b64encode(_x509_v2(certs_only([chain()[1]]))),
        "der-base64": base64.b64encode(der),
        "pem": b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n",
    }[form]
    with pytest.raises(ValueError):
        certificates_from_answer(body)


def _with_empty_rdn_in_subject(cert: x509.Certificate) -> x509.Certificate:
    """`cert` with its subject replaced by a Name holding one empty RDN (SET {}), lengths repaired;
    it loads, since cryptography parses names only when they are read (its signature is now wrong)."""
    der = cert.public_bytes(serialization.Encoding.DER)
    at = der.index(cert.subject.public_bytes())
    found = elements(der)
    subject = next(e for e in found if e.start == at)
    return x509.load_der_x509_certificate(replace(der, found, subject, b"\x30\x02\x31\x00"))


def test_a_chain_with_a_malformed_name_gets_a_verdict():
    leaf, intermediate, root = chain()
    assert chain_problem([leaf, _with_empty_rdn_in_subject(intermediate)], [root]) is not None


@pytest.mark.parametrize("where", ["desired state", "tedge.toml"])
def test_a_duration_of_a_hundred_trillion_days_is_bad_input(tmp_path, where):
    state = tmp_path / "reconcile.yaml"
    if where == "tedge.toml":
        state.write_bytes(b"device_id: gw-0001\n")
        (tmp_path / "tedge.toml").write_bytes(b'[certificate.validity]\nminimum_duration = "99999999999999d"\n')
    else:
        state.write_bytes(b"device_id: gw-0001\nvalidity: {requested: 99999999999999d}\n")
    with pytest.raises(BadInput):
        resolve(load_desired_state(state), load_tedge_config(tmp_path), tmp_path)


def test_a_long_run_of_digits_after_a_duration_is_refused_at_once():
    started = time.process_time()  # CPU time: another process's load does not count
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("1d" + "9" * 8000)  # about 1 s now; a linear scan takes a millisecond
    assert time.process_time() - started < 0.1  # a bound against super-linear work, not a benchmark


@pytest.mark.parametrize(
    "report",
    [b'{"failedCreationList": ["gw-0001"]}', b'{"failedCreationList": 1}',
     b'{"failedCreationList": [{"deviceId": ["gw-0001"]}]}', b'{"credentialUpdatedList": [{"deviceId": {}}]}'],
    ids=["item-not-a-dict", "list-not-a-list", "id-a-list", "id-a-dict"],
)
def test_a_bulk_report_of_another_shape_gives_results_or_a_refusal(monkeypatch, report):
    admin = admin_answered_by(monkeypatch, lambda: Answer(201, JSON, report))
    try:
        results = register_devices(admin, [DeviceRegistration("gw-0001", "password-0001")]).results
    except TenantRefused:
        return
    assert [r.device_id for r in results] == ["gw-0001"]


def test_a_device_list_csv_with_a_field_over_128_kib_is_bad_input(tmp_path):
    path = tmp_path / "devices.csv"
    path.write_bytes(b'ID;NAME\ngw-0001;"' + b"x" * 131_073 + b'"\n')
    with pytest.raises(BadInput):
        devices_from_file(path, "thin-edge.io")


def test_a_credentials_file_that_is_not_utf8_is_bad_input(tmp_path):
    path = tmp_path / "admin.env"
    path.write_bytes(b"C8Y_USER=admin\nC8Y_PASSWORD=caf\xe9\n")  # Latin-1, as an editor may save it
    with pytest.raises(BadInput):
        load_admin_credentials(path, environ={})


def _nested_ber_bomb(depth: int, elements: int) -> bytes:
    """A certs-only message whose one "certificate" is `elements` empty OCTET STRINGs inside
    `depth` indefinite-length SEQUENCEs: every level re-walks everything below it."""
    def definite(tag: int, content: bytes) -> bytes:
        return bytes([tag]) + length_field(len(content)) + content

    def indefinite(tag: int, content: bytes) -> bytes:
        return bytes([tag, 0x80]) + content + b"\x00\x00"

    cert = b"\x04\x00" * elements
    for _ in range(depth):
        cert = indefinite(0x30, cert)
    signed = definite(0x02, b"\x01") + definite(0x31, b"") + definite(0x30, definite(0x06, DATA_OID)) + indefinite(0xA0, cert)
    return indefinite(0x30, definite(0x06, SIGNED_DATA_OID) + indefinite(0xA0, indefinite(0x30, signed + definite(0x31, b""))))


def test_an_answer_of_20000_elements_nested_28_deep_is_read_or_refused_in_linear_time():
    body = base64.b64encode(_nested_ber_bomb(28, 20_000))
    started = time.process_time()
    with pytest.raises(ValueError):
        certificates_from_answer(body)
    assert time.process_time() - started < 0.3  # a bound against super-linear work, not a benchmark


def test_pkcs7_armour_begun_again_and_again_without_an_end_is_refused_in_linear_time():
    # FUZZ certificates_from_answer seed=7001 case=121426 (FUZZ_SCALE=20): 8 s for 256 KiB.
    body = (b"-----BEGIN PKCS7-----\nMIAGCSqGSIb3DQEHAqCAMIACA" * 6000)[: 256 * 1024]
    started = time.process_time()  # CPU time: another process's load does not count
    with pytest.raises(ValueError, match="neither PKCS#7 nor a certificate"):
        certificates_from_answer(body)
    assert time.process_time() - started < 0.3  # a bound against super-linear work, not a benchmark


# Found with the catch-alls of x509_facts narrowed to what cryptography documents (FUZZ_SCALE=20).
def test_a_pem_certificate_of_an_unknown_version_is_a_value_error():
    with pytest.raises(ValueError, match="unknown X.509 version"):
        load_certificates(answer_mutator().case(18370))  # seed 7001: was InvalidVersion, no ValueError


def test_a_key_openssl_cannot_decode_is_a_value_error():
    x448_of_32_bytes = base64.b64decode("MC4CAQAwBQYDK2VvBCIEICAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/")
    with pytest.raises(ValueError, match="OpenSSL cannot decode it"):
        load_private_key(x448_of_32_bytes)  # was cryptography's InternalError


def test_a_content_length_of_non_ascii_digits_is_not_a_crash():
    # "7²".isdigit() is True and int("7²") a ValueError: the size check read it as a number.
    with ReplayServer() as server:
        server.answer = b"HTTP/1.1 404 Not Found\r\ncontent-length: 7\xb2\r\n\r\n{}"
        try:
            send(new_session(None), "GET", server.url + "/x", timeout=2)
        except (TenantRefused, Transient):
            pass  # refused as a broken answer: fine; anything else surfaces


def test_a_name_cryptography_cannot_build_gives_a_chain_verdict():
    # seed 7001: reading a name raised TypeError ("oid must be X500_UNIQUE_IDENTIFIER for BitString type").
    certs = load_certificates(answer_mutator().case(17653))
    assert chain_problem(certs, [root()]) == "its chain holds a malformed name"


def test_a_content_length_of_thousands_of_digits_is_too_large_not_a_crash():
    with ReplayServer() as server:
        server.answer = b"HTTP/1.1 200 OK\r\ncontent-length: " + b"9" * 6000 + b"\r\n\r\n{}"
        with pytest.raises(TenantRefused, match="refusing more than"):
            send(new_session(None), "GET", server.url + "/x", timeout=2)


@pytest.mark.parametrize("field", ["key", "cert", "csr"])
def test_a_path_that_names_no_file_is_bad_input(tmp_path, field):
    # FUZZ desired state seed=7005 case=25690: `paths.key: /` was an internal error (exit 1).
    state = tmp_path / "state.yaml"
    state.write_text(f"device_id: gw-1\npaths: {{{field}: /}}\n")
    with pytest.raises(BadInput, match=f"paths.{field}: / names no file"):
        resolve(load_desired_state(state), load_tedge_config(tmp_path), tmp_path)


def test_a_key_of_another_kind_is_named_without_a_deprecation_warning():
    # FUZZ observe_key seed=7003 case=23 (an X25519 key): with cryptography 51, reading the name
    # `dsa.DSAPublicKey` to rule DSA out raised CryptographyDeprecationWarning (an error here).
    from cryptography.hazmat.primitives.asymmetric import x25519

    assert key_algorithm(x25519.X25519PrivateKey.generate().public_key()) == "x25519"
