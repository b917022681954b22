"""The registration module in this process, against the emulator: idempotent per device, check mode
sends nothing that changes the tenant, admin credentials from options or the C8Y_* environment.
(Across real ansible-playbook runs: test_registration_playbook.py.)"""

from __future__ import annotations

import json

import pytest

from tests.ansible.module_call import call_module

pytestmark = pytest.mark.usefixtures("collection_imports")

OTP_A, OTP_B = "first-password-aaaa", "second-password-bbbb"


def admin_args(tenant, devices, **options) -> dict:
    return {
        "tenant": {"url": tenant.url, "ca_bundle": str(tenant.ca_bundle)},
        "user": tenant.admin_user,
        "password": tenant.admin_password,
        "tenant_id": tenant.tenant_id,
        "devices": devices,
        **options,
    }


def results(result: dict) -> dict[str, str]:
    return {row["id"]: row["result"] for row in result["devices"]}


def test_check_mode_reports_what_would_be_registered_and_registers_nothing(tenant):
    failed, result = call_module("registration", admin_args(tenant, [{"id": "gw-1", "one_time_password": OTP_A}]),
                                 check_mode=True)
    assert not failed and result["changed"] is True and results(result) == {"gw-1": "created"}
    assert tenant.registry.get("gw-1") is None
    assert not tenant.requests_to("bulkNewDeviceRequests")


def test_a_pending_registration_is_left_alone_unless_replaced(tenant):
    devices = [{"id": "gw-1", "one_time_password": OTP_A}, {"id": "gw-2", "one_time_password": OTP_A}]
    failed, first = call_module("registration", admin_args(tenant, devices))
    assert not failed and first["changed"] is True and results(first) == {"gw-1": "created", "gw-2": "created"}

    devices[0]["one_time_password"] = OTP_B
    failed, again = call_module("registration", admin_args(tenant, devices))
    assert not failed and again["changed"] is False and results(again) == {"gw-1": "present", "gw-2": "present"}
    assert again["devices"][0]["status"] == "WAITING_FOR_CONNECTION"
    assert tenant.registry.get("gw-1").one_time_password == OTP_A

    failed, replaced = call_module("registration", admin_args(tenant, devices[:1], replace=True))
    assert not failed and replaced["changed"] is True and results(replaced) == {"gw-1": "replaced"}
    assert tenant.registry.get("gw-1").one_time_password == OTP_B
    assert OTP_A not in json.dumps([first, again, replaced]) and OTP_B not in json.dumps(replaced)


def test_absent_removes_a_pending_registration_once(tenant):
    tenant.register("gw-1", OTP_A)
    args = admin_args(tenant, [{"id": "gw-1"}], state="absent")
    failed, check = call_module("registration", args, check_mode=True)
    assert not failed and check["changed"] is True and tenant.registry.get("gw-1") is not None
    failed, removed = call_module("registration", args)
    assert not failed and results(removed) == {"gw-1": "removed"} and tenant.registry.get("gw-1") is None
    failed, again = call_module("registration", args)
    assert not failed and again["changed"] is False and results(again) == {"gw-1": "absent"}


def test_admin_credentials_and_tenant_come_from_the_environment_as_for_the_cli(tenant, monkeypatch):
    monkeypatch.setenv("C8Y_HOST", tenant.url)
    monkeypatch.setenv("C8Y_USER", tenant.admin_user)
    monkeypatch.setenv("C8Y_PASSWORD", tenant.admin_password)
    monkeypatch.setenv("C8Y_TENANT", tenant.tenant_id)
    args = {"tenant": {"ca_bundle": str(tenant.ca_bundle)}, "devices": [{"id": "gw-1", "one_time_password": OTP_A}]}
    failed, result = call_module("registration", args)
    assert not failed and results(result) == {"gw-1": "created"}


def test_refused_admin_credentials_fail_without_showing_them(tenant):
    args = admin_args(tenant, [{"id": "gw-1", "one_time_password": OTP_A}], password="not-the-admin-password")
    failed, result = call_module("registration", args)
    assert failed and result["exit_name"] == "tenant_refused" and "refused the admin credentials" in result["msg"]
    assert "not-the-admin-password" not in json.dumps(result)


def test_a_device_the_tenant_rejects_fails_the_task_with_its_reason(tenant):
    tenant.fault("status", path="bulkNewDeviceRequests", status=422)
    failed, result = call_module("registration", admin_args(tenant, [{"id": "gw-1", "one_time_password": OTP_A}]))
    assert failed and results(result) == {"gw-1": "failed"} and result["exit_code"] == 1
    assert result["msg"].startswith("1 failed (gw-1: bulk upload failed (422: injected failure 422))")


@pytest.mark.parametrize(
    "devices, message",
    [
        ([{"id": "gw 1", "one_time_password": OTP_A}],
         "devices[0].id: 'gw 1' is not a valid device id (1 to 64 letters, digits or _ . : @ -)"),
        ([{"id": "gw-1", "one_time_password": OTP_A}, {"id": "gw-1", "one_time_password": OTP_B}],
         "devices[1].id: gw-1 is listed twice"),
        ([{"id": "gw-1"}], "devices[0].one_time_password: required with state=present"),
        ([{"id": "gw-1", "one_time_password": "short"}],
         "devices[0].one_time_password: a one-time password must be 8 to 32 characters"),
    ],
)
def test_bad_devices_are_named_by_their_place_in_the_list(devices, message):
    args = {"tenant": {"url": "https://127.0.0.1:9"}, "user": "admin", "password": "admin-password", "devices": devices}
    failed, result = call_module("registration", args)
    assert failed and result["msg"] == message and result["exit_name"] == "bad_input"


def test_without_a_tenant_url_or_c8y_host_the_option_is_named(monkeypatch):
    monkeypatch.delenv("C8Y_HOST", raising=False)
    args = {"user": "admin", "password": "admin-password", "devices": [{"id": "gw-1", "one_time_password": OTP_A}]}
    failed, result = call_module("registration", args)
    assert failed and result["msg"] == "tenant.url: required (or C8Y_HOST in the environment)"


def test_the_tenant_ca_is_returned_for_the_devices(tenant):
    from reconciler.x509.chain import fingerprint

    failed, result = call_module("registration", admin_args(tenant, [{"id": "gw-1", "one_time_password": OTP_A}]),
                                 check_mode=True)
    assert not failed
    assert result["tenant_ca"]["pem"] == tenant.ca.certificate_pem.decode()
    assert result["tenant_ca"]["fingerprints_sha256"] == [fingerprint(tenant.ca.certificate)]
    assert len(tenant.requests_to("trusted-certificates")) == 1 and not tenant.requests_to("bulkNewDeviceRequests")


def test_the_tenant_ca_is_not_read_when_not_wanted(tenant):
    failed, result = call_module("registration", admin_args(tenant, [{"id": "gw-1", "one_time_password": OTP_A}],
                                                            fetch_tenant_ca=False))
    assert not failed and result["tenant_ca"] is None and results(result) == {"gw-1": "created"}
    assert not tenant.requests_to("trusted-certificates")


def test_a_user_who_may_not_read_the_tenant_ca_is_told_the_roles_and_nothing_is_registered(tenant):
    tenant.fault("status", path="trusted-certificates", status=403)
    failed, result = call_module("registration", admin_args(tenant, [{"id": "gw-1", "one_time_password": OTP_A}]))
    assert failed and result["exit_name"] == "tenant_refused"
    assert "ROLE_TENANT_ADMIN" in result["msg"] and "fetch_tenant_ca: false" in result["msg"]
    assert not tenant.requests_to("bulkNewDeviceRequests") and tenant.registry.get("gw-1") is None


def test_results_stay_truthful_when_the_task_ends_by_an_exception(tenant, monkeypatch):
    """gw-1's pending registration is deleted, then the tenant fails on gw-2: changed, and each row says what happened."""
    import reconciler.c8y.registration as engine
    from reconciler.basics.errors import Unreachable

    tenant.register("gw-1", OTP_A)
    tenant.register("gw-2", OTP_A)
    real_delete, calls = engine.delete_registration, []

    def delete_then_fail(admin, device_id):
        calls.append(device_id)
        if len(calls) > 1:
            raise Unreachable("the tenant went away")
        return real_delete(admin, device_id)

    monkeypatch.setattr(engine, "delete_registration", delete_then_fail)
    devices = [{"id": "gw-1", "one_time_password": OTP_B}, {"id": "gw-2", "one_time_password": OTP_B}]
    failed, result = call_module("registration", admin_args(tenant, devices, replace=True))
    assert failed and result["exit_name"] == "unreachable" and result["changed"] is True
    rows = {row["id"]: row for row in result["devices"]}
    assert rows["gw-1"]["changed"] is True and rows["gw-2"]["changed"] is False
    assert {row["result"] for row in rows.values()} == {"failed"}
    assert rows["gw-2"]["reason"] == "not done: the tenant went away"
    assert tenant.registry.get("gw-1") is None and tenant.registry.get("gw-2") is not None


def test_an_enrolled_device_is_left_alone_unless_replace_enrolled(tenant):
    tenant.inventory.device_enrolled("gw-1")
    devices = [{"id": "gw-1", "one_time_password": OTP_A}]
    failed, check = call_module("registration", admin_args(tenant, devices), check_mode=True)
    assert not failed and check["changed"] is False and results(check) == {"gw-1": "enrolled"}
    failed, left = call_module("registration", admin_args(tenant, devices))
    assert not failed and left["changed"] is False and results(left) == {"gw-1": "enrolled"}
    assert not tenant.requests_to("bulkNewDeviceRequests")
    failed, check = call_module("registration", admin_args(tenant, devices, replace_enrolled=True), check_mode=True)
    assert not failed and check["changed"] is True and results(check) == {"gw-1": "reregistered"}
    failed, again = call_module("registration", admin_args(tenant, devices, replace_enrolled=True))
    assert not failed and again["changed"] is True and results(again) == {"gw-1": "reregistered"}
    assert tenant.registry.get("gw-1").one_time_password == OTP_A


def test_the_tenant_timeout_is_used_and_the_other_tenant_keys_are_accepted(tenant):
    args = admin_args(tenant, [{"id": "gw-1", "one_time_password": OTP_A}])
    args["tenant"].update(timeout="soon", mqtt="example.com:8883", backoff={"first": "1h"})
    failed, result = call_module("registration", args)
    assert failed and result["msg"].startswith("tenant.timeout: ") and result["exit_name"] == "bad_input"
    args["tenant"]["timeout"] = "7s"
    failed, result = call_module("registration", args)
    assert not failed and results(result) == {"gw-1": "created"}
