"""Fuzz: what the tenant answers a tenant administrator, and the files `reconcile register`
reads, give results or the documented errors (ReconcileError subclasses: BadInput,
TenantRefused, ...), never another exception, never a hang.

- Tenant answers (10,000): the bulk-registration report (JSON with per-device lists), pending
  registrations and deletions, as HTTP text mutated as a whole, through the real AdminClient
  with only its transport replaced.
- Device lists (10,000 CSV; 3,000 YAML, whose pure-Python loader costs about a millisecond).
- Admin credential files (10,000).
"""

from __future__ import annotations

import pytest

from reconciler.basics.errors import BadInput, ReconcileError
from reconciler.c8y.admin import AdminCredentials, load_admin_credentials
from reconciler.c8y.registration import (
    DeviceRegistration,
    RegistrationReport,
    delete_registration,
    register_devices,
    registration_status,
)
from reconciler.cli.register_input import devices_from_file
from tests.fuzz_harness import cases, fresh_file, fuzz
from tests.http_text import admin_answered_by, as_answer, outcomes_of
from tests.json_mutations import swap_json_value
from tests.mutations import Mutator, token_insertion

SEED = 7006
CASES = cases(10_000)
YAML_CASES = cases(3_000)
JSON = b"content-type: application/json\r\n\r\n"
DEVICES = [DeviceRegistration(f"gw-000{n}", f"password-000{n}") for n in (1, 2, 3)]

TENANT_ANSWERS = (
    b"201\r\n" + JSON + b'{"numberOfAll":3,"numberOfCreated":1,"numberOfFailed":1,"numberOfSuccessful":2,'
    b'"credentialUpdatedList":[{"bulkNewDeviceStatus":"CREDENTIAL_UPDATED","deviceId":"gw-0002"}],'
    b'"failedCreationList":[{"bulkNewDeviceStatus":"FAILED","deviceId":"gw-0003",'
    b'"failureReason":"Device with id gw-0003 already exists","line":"gw-0003;CERTIFICATES;password-0003"}]}',
    b"200\r\n" + JSON + b'{"id":"gw-0001","status":"WAITING_FOR_CONNECTION","self":"https://t/devicecontrol/newDeviceRequests/gw-0001"}',
    b"204\r\n\r\n",
    b"404\r\n" + JSON + b'{"error":"devicecontrol/Not Found","message":"Finding device data from database failed"}',
    b"500\r\ncontent-type: text/html\r\n\r\n<html><title>Internal Server Error</title></html>",
    b"422\r\n" + JSON + b'{"error":"Unprocessable","message":"invalid csv"}',
)
JSON_TOKENS = (b"[", b"{", b'{"deviceId":', b'"', b"null", b"[]", b"{}", b"1e999", b"-0", b"\\u0000", b"\\ud800",
               b'"failedCreationList":', b'"credentialUpdatedList":', b"true", b",", b"9" * 40, b"\xff")

CSV_FILES = (
    b"ID;ENROLLMENT_OTP;NAME;TYPE\ngw-0001;password-0001;Gateway 1;thin-edge.io\ngw-0002;;Gateway 2;\n",
    b"\xef\xbb\xbfID\tENROLLMENT_OTP\ngw-0003\tpassword-0003\n",
    b'ID,NAME\ngw-0004,"Line, with comma"\ngw-0005,"quoted ""name"""\n',
)
YAML_FILES = (
    b"- gw-0001\n- gw-0002\n",
    b"devices:\n  - {id: gw-0003, one_time_password: password-0003, name: Gateway 3}\n  - id: gw-0004\n    type: custom\n",
)
CREDENTIAL_FILES = (
    b"# admin of the tenant\nC8Y_USER=admin\nC8Y_PASSWORD='secret password'\nC8Y_TENANT=t12345\n",
    b'export C8Y_USER="ops"\nexport C8Y_PASSWORD=p=with=equals\n\n',
)
TEXT_TOKENS = (b";", b"\t", b",", b'"', b"\n", b"\r", b"\r\n", b"\x00", b"\xff", b"\xef\xbb\xbf", b"=", b"export ",
               b"- ", b"{", b"[", b"? ", b"&a ", b"*a", b"!!binary ", b"!!float ", b"~", b"x" * 64, b"#")


def test_any_tenant_answer_to_the_administrator_gives_results_or_a_documented_error(monkeypatch):
    answer = None
    admin = admin_answered_by(monkeypatch, lambda: answer)

    def administer(data: bytes):
        nonlocal answer
        answer = as_answer(data)
        return outcomes_of((lambda: register_devices(admin, DEVICES, sleep=lambda seconds: None),
                            lambda: registration_status(admin, "gw-0001"),
                            lambda: delete_registration(admin, "gw-0001")))

    def check(outcomes) -> None:
        report, status, deleted = outcomes
        if isinstance(report, RegistrationReport):
            assert [r.device_id for r in report.results] == [d.device_id for d in DEVICES], report
            assert {r.result for r in report.results} <= {"created", "updated", "failed"}, report
        assert status is None or isinstance(status, (str, ReconcileError)), status
        assert isinstance(deleted, (bool, ReconcileError)), deleted

    mutator = Mutator(TENANT_ANSWERS, SEED, extra=(token_insertion(JSON_TOKENS),) * 3 + (swap_json_value,) * 4)
    fuzz("registration answers", mutator, CASES, administer, refusals=(), check=check)


def device_list(result) -> None:
    assert isinstance(result, list) and all(isinstance(d, DeviceRegistration) for d in result), f"{result!r:.80}"


@pytest.mark.parametrize("suffix, samples, count", [(".csv", CSV_FILES, CASES), (".yaml", YAML_FILES, YAML_CASES)])
def test_any_device_list_file_gives_devices_or_bad_input(tmp_path, suffix, samples, count):
    path = tmp_path / f"devices{suffix}"

    def read(data: bytes):
        return devices_from_file(fresh_file(path, data), "thin-edge.io")

    mutator = Mutator(samples, SEED, extra=(token_insertion(TEXT_TOKENS),) * 3)
    fuzz(f"devices_from_file {suffix}", mutator, count, read, refusals=(BadInput,), check=device_list)


def test_any_credentials_file_gives_credentials_or_bad_input(tmp_path):
    path = tmp_path / "admin.env"

    def read(data: bytes) -> AdminCredentials:
        return load_admin_credentials(fresh_file(path, data), environ={})

    def check(credentials) -> None:
        assert isinstance(credentials, AdminCredentials) and credentials.user and credentials.password

    mutator = Mutator(CREDENTIAL_FILES, SEED, extra=(token_insertion(TEXT_TOKENS),) * 3)
    fuzz("load_admin_credentials", mutator, CASES, read, refusals=(BadInput,), check=check)
