"""`reconcile register` against the emulator: bulk, chunked, per-device results, secrets kept."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from reconciler.c8y.admin import AdminClient, AdminCredentials
from reconciler.c8y.registration import DeviceRegistration, register_devices, registration_url
from tests.conftest import RECONCILE


def _run(tenant, *args, creds=True, env=None):
    full = {k: v for k, v in os.environ.items() if not k.startswith("C8Y_")}
    if creds:
        full.update(C8Y_USER=tenant.admin_user, C8Y_PASSWORD=tenant.admin_password, C8Y_TENANT=tenant.tenant_id)
    full.update(env or {})
    return subprocess.run([*RECONCILE, "register", "--tenant", tenant.url, "--ca-bundle", str(tenant.ca_bundle), *args],
                          capture_output=True, text=True, env=full, timeout=120)


def test_register_generates_passwords_into_a_private_file(tmp_path, tenant):
    out = tmp_path / "otps.csv"
    result = _run(tenant, "--device", "gw-1", "--device", "gw-2", "--otp-out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["gw-1: created", "gw-2: created"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = dict(line.split(",") for line in out.read_text().splitlines()[1:])
    assert set(rows) == {"gw-1", "gw-2"}
    assert all(len(otp) == 32 for otp in rows.values())
    assert tenant.registry.get("gw-1").one_time_password == rows["gw-1"]
    assert rows["gw-1"] not in result.stdout + result.stderr
    (upload,) = tenant.requests_to("bulkNewDeviceRequests")
    assert b"ID;AUTH_TYPE;ENROLLMENT_OTP" in upload.body and b"CERTIFICATES" in upload.body


def test_generated_passwords_need_a_place_to_go(tenant):
    result = _run(tenant, "--device", "gw-1")
    assert result.returncode == 3
    assert "would be lost" in result.stderr
    assert not tenant.requests


def test_passwords_from_a_csv_file_and_per_device_results(tmp_path, tenant):
    source = tmp_path / "devices.csv"
    source.write_text("ID;ENROLLMENT_OTP;NAME\ngw-1;password-0001;Gateway 1\ngw-2;short;Gateway 2\n")
    tenant.register("gw-3", "old-password-1")
    (tmp_path / "more.yaml").write_text("devices:\n  - {id: gw-3, one_time_password: new-password-3}\n")
    result = _run(tenant, "--from", str(source), "--output", "json")
    assert result.returncode == 3 and "gw-2: a one-time password must be 8 to 32 characters" in result.stderr
    source.write_text("ID;ENROLLMENT_OTP;NAME\ngw-1;password-0001;Gateway 1\n")
    result = _run(tenant, "--from", str(source), "--from", str(tmp_path / "more.yaml"), "--output", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert report["devices"] == [
        {"device_id": "gw-1", "result": "created", "reason": None, "deleted": False},
        {"device_id": "gw-3", "result": "updated", "reason": None, "deleted": False},
    ]
    assert tenant.registry.get("gw-1").name == "Gateway 1"
    assert "new-password-3" not in result.stdout
    assert tenant.registry.get("gw-3").one_time_password == "new-password-3"


def test_tenant_side_failures_are_reported_per_device_with_exit_1(tmp_path, tenant):
    source = tmp_path / "devices.csv"
    source.write_text("ID,ENROLLMENT_OTP\ngw-1,password-0001\ngw-2,password-0002\n")
    tenant.fault("status", path="bulkNewDeviceRequests", status=500, times=3)
    result = _run(tenant, "--from", str(source))
    assert result.returncode == 1
    assert "gw-1: failed (bulk upload failed (500: injected failure 500))" in result.stdout
    assert len(tenant.requests_to("bulkNewDeviceRequests")) == 3


def test_large_fleets_go_in_chunks(tenant):
    admin = AdminClient(tenant.url, AdminCredentials(tenant.admin_user, tenant.admin_password, tenant.tenant_id), tenant.ca_bundle)
    devices = [DeviceRegistration(f"gw-{i:05d}", f"password-{i:05d}") for i in range(2500)]
    report = register_devices(admin, devices, chunk_size=1000)
    assert report.requests == 2500 + 3  # one identity lookup per device, then three bulk uploads
    assert report.count("created") == 2500 and report.ok
    assert tenant.registry.get("gw-02499").one_time_password == "password-02499"


def test_replace_removes_the_stale_registration_first(tenant, tmp_path):
    tenant.register("gw-1", "stale-password-1")
    source = tmp_path / "d.yaml"
    source.write_text("- {id: gw-1, otp: fresh-password-1}\n")
    result = _run(tenant, "--from", str(source), "--replace")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "gw-1: created"
    assert [r.method for r in tenant.requests] == ["GET", "DELETE", "POST"]  # GET: is it enrolled?


def test_an_enrolled_device_is_left_alone_unless_replace_enrolled(tenant, tmp_path):
    tenant.inventory.device_enrolled("gw-1")
    out = tmp_path / "otps.csv"
    result = _run(tenant, "--device", "gw-1", "--device", "gw-2", "--otp-out", str(out), "--output", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(row["device_id"], row["result"]) for row in report["devices"]] == [("gw-1", "enrolled"), ("gw-2", "created")]
    assert report["enrolled"] == 1 and "managed object" in report["devices"][0]["reason"]
    assert tenant.registry.get("gw-1") is None, "no new one-time password for an enrolled device"
    (upload,) = tenant.requests_to("bulkNewDeviceRequests")
    assert b"gw-1;" not in upload.body and b"gw-2;" in upload.body
    assert "gw-1" not in out.read_text(), "a password never registered is not handed out"

    result = _run(tenant, "--device", "gw-1", "--replace-enrolled", "--show-otp")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("gw-1: created  one-time password: ")
    assert tenant.registry.get("gw-1") is not None


def test_replace_reports_the_deletion_when_the_upload_then_fails(tenant, tmp_path):
    tenant.register("gw-1", "stale-password-1")
    tenant.fault("status", path="bulkNewDeviceRequests", status=422)
    result = _run(tenant, "--device", "gw-1", "--replace", "--show-otp", "--output", "json")
    assert result.returncode == 1
    (row,) = json.loads(result.stdout)["devices"]
    assert row["result"] == "failed" and row["deleted"] is True and tenant.registry.get("gw-1") is None


def test_status_of_a_registration(tenant):
    tenant.register("gw-1", "password-0001")
    result = _run(tenant, "--device", "gw-1", "--device", "gw-9", "--status")
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["gw-1: WAITING_FOR_CONNECTION", "gw-9: no pending registration"]


def test_print_url_needs_no_credentials_and_sends_nothing(tenant, tmp_path):
    source = tmp_path / "d.yaml"
    source.write_text("- {id: gw-1, otp: password-0001}\n")
    result = _run(tenant, "--from", str(source), "--print-url", creds=False)
    assert result.returncode == 0
    assert result.stdout.strip() == registration_url(tenant.url, "gw-1", "password-0001")
    assert "#/deviceregistration?externalId=gw-1&one-time-password=password-0001" in result.stdout
    assert not tenant.requests


@pytest.mark.parametrize("creds, env, code, message", [
    (False, {}, 3, "C8Y_USER and C8Y_PASSWORD must be set"),
    (True, {"C8Y_PASSWORD": "wrong"}, 6, "refused the admin credentials (401)"),
])
def test_bad_admin_credentials(tenant, creds, env, code, message):
    result = _run(tenant, "--device", "gw-1", "--show-otp", creds=creds, env=env)
    assert result.returncode == code
    assert message in result.stderr
    assert "wrong" not in result.stderr


def test_credentials_file(tenant, tmp_path):
    creds = tmp_path / "admin.env"
    creds.write_text(f"C8Y_TENANT={tenant.tenant_id}\nC8Y_USER={tenant.admin_user}\nC8Y_PASSWORD='{tenant.admin_password}'\n")
    result = _run(tenant, "--device", "gw-1", "--show-otp", "--credentials-file", str(creds), creds=False)
    assert result.returncode == 0, result.stderr
    otp = tenant.registry.get("gw-1").one_time_password
    assert result.stdout.strip() == f"gw-1: created  one-time password: {otp}"


def test_enrolled_devices_are_found_among_many_with_one_lookup_each(tenant):
    from reconciler.c8y.registration import enrolled_devices

    admin = AdminClient(tenant.url, AdminCredentials(tenant.admin_user, tenant.admin_password, tenant.tenant_id), tenant.ca_bundle)
    ids = [f"gw-{i:03d}" for i in range(40)]
    expected = {device_id: tenant.inventory.device_enrolled(device_id) for device_id in ids[::3]}
    assert enrolled_devices(admin, ids) == expected
    assert admin.requests_made == len(ids) == len(tenant.requests_to("")) and enrolled_devices(admin, []) == {}
