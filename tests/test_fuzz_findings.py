"""Hostile inputs the fuzz tests found, each kept as a test of the promise it broke.

Fixed ones are plain regression tests. Reported but not yet fixed ones are strict xfails:
once the fix lands they pass, and strict mode fails them to say so: then drop the marker and
the matching `Known` entry of the fuzz test.
"""

from __future__ import annotations

import base64
import time

import pytest

from reconciler.c8y import admin as admin_module
from reconciler.c8y.admin import AdminClient, AdminCredentials
from reconciler.c8y.answer import certificates_from_answer
from reconciler.c8y.est import judge, retry_after_seconds
from reconciler.c8y.http import Answer
from reconciler.errors import BadInput, TenantRefused
from reconciler.c8y.registration import DeviceRegistration, register_devices, registration_status
from reconciler.register_input import devices_from_file
from reconciler.spec_load import load_desired_state
from reconciler.tedge_config import load_tedge_config

JSON = {"content-type": "application/json"}
JSON_BOMB = b"[" * 100_000  # well under the 256 KiB answer cap; json recurses once per bracket


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
    with pytest.raises(BadInput, match="not valid YAML"):
        devices_from_file(path, "thin-edge.io")


def admin_answering(monkeypatch, answer: Answer) -> AdminClient:
    """The real admin client, whose every request gets `answer`."""
    monkeypatch.setattr(admin_module, "send", lambda *args, **kwargs: answer)
    return AdminClient("https://t12345.example.com", AdminCredentials("admin", "secret", "t12345"))


def test_a_bulk_report_nested_deeper_than_python_recurses_is_no_report(monkeypatch):
    admin = admin_answering(monkeypatch, Answer(201, JSON, JSON_BOMB))
    with pytest.raises(TenantRefused, match="without a JSON report"):
        register_devices(admin, [DeviceRegistration("gw-0001", "password-0001")])


def test_a_registration_status_nested_deeper_than_python_recurses_is_unexpected(monkeypatch):
    with pytest.raises(TenantRefused, match="unexpected answer"):
        registration_status(admin_answering(monkeypatch, Answer(200, JSON, JSON_BOMB)), "gw-0001")


def test_an_answer_with_a_tag_number_of_190000_bytes_is_refused_at_once():
    hostile = base64.b64encode(b"\x3f" + b"\xff" * 190_000 + b"\x7f\x00")  # took 7 s: a big int shifted per byte
    started = time.monotonic()
    with pytest.raises(ValueError, match="tag"):
        certificates_from_answer(hostile)
    assert time.monotonic() - started < 1.0  # a bound against super-linear work, not a benchmark
