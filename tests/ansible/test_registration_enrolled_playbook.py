"""Registration that knows enrolled devices, through real `ansible-playbook -vvv` runs against the
emulator: an enrolled device is never registered again (counted at the emulator), and a replacement
whose upload fails still says that the tenant changed. The tenant comes from module_defaults of the
action group `group/tedge_cert.c8y_ca.c8y`, for all three modules."""

from __future__ import annotations

from pathlib import Path

from tests.ansible.ansible_run import run_playbook, write_inventory
from tests.ansible.test_early_failures import ANSIBLE_KEYS, always_keys, documented_returns

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
OTPS = {"gw-0001": "enrolled-pass-0001", "gw-0002": "enrolled-pass-0002"}


def test_register_enroll_register_again_then_a_failed_replacement(tmp_path, tenant, installed_collections):
    device_dir = tmp_path / "gw-0001"
    (device_dir / "device-certs").mkdir(parents=True)
    devices = [{"id": device_id, "one_time_password": otp} for device_id, otp in OTPS.items()]
    inventory = write_inventory(
        tmp_path / "inventory.yml", {}, tenant={"url": tenant.url, "ca_bundle": str(tenant.ca_bundle)}, devices=devices,
        device_dir=str(device_dir),
    )
    admin = {"C8Y_USER": tenant.admin_user, "C8Y_PASSWORD": tenant.admin_password, "C8Y_TENANT": tenant.tenant_id}
    secrets = lambda: [*OTPS.values(), tenant.admin_password, *tenant.tokens_issued]  # noqa: E731

    def play(tag):
        return run_playbook(PLAYBOOKS / "registration_enrolled.yml", inventory, tmp_path / "ansible", installed_collections,
                            secrets, "--tags", tag, env=admin)

    run = play("enroll")
    assert run.returncode == 0, run.output[-4000:]
    assert run.outcome("register") == "changed"
    assert run.outcome("enroll") == "changed" and run.result("enroll")["status"] == "changed"
    assert run.result("info")["subject_cn"] == "gw-0001"  # the group's tenant is accepted there too
    assert len(tenant.requests_to("bulkNewDeviceRequests")) == 1

    again = run.result("register again")
    assert run.outcome("register again") == "ok" and again["changed"] is False
    rows = {row["id"]: row for row in again["devices"]}
    assert rows["gw-0001"]["result"] == "enrolled" and rows["gw-0001"]["managed_object_id"]
    assert rows["gw-0002"]["result"] == "present"
    assert len(tenant.requests_to("bulkNewDeviceRequests")) == 1, "the emulator received no new registration"
    assert tenant.registry.get("gw-0001") is None, "no new one-time password for the enrolled device"
    for task, module in (("register", "registration"), ("enroll", "certificate"), ("info", "certificate_info")):
        result, returns = run.result(task), documented_returns(module)
        assert set(result) - set(returns) - ANSIBLE_KEYS == set(), f"{task}: undocumented keys"
        assert always_keys(returns) <= set(result), f"{task}: 'returned: always' keys missing"

    tenant.fault("status", path="bulkNewDeviceRequests", status=422)
    run = play("replace")
    assert run.returncode == 0, run.output[-4000:]  # the task ignores its error
    replaced = run.result("replace, upload fails")
    assert run.outcome("replace, upload fails") == "failed"
    assert replaced["changed"] is True, "the pending registration was deleted: the tenant changed"
    (row,) = replaced["devices"]
    assert row["result"] == "failed" and row["changed"] is True and "422" in row["reason"]
    assert tenant.registry.get("gw-0002") is None


def test_replace_leaves_an_enrolled_device_alone_whatever_its_registration(tmp_path, tenant, installed_collections):
    """As `reconcile register --replace`: an enrolled device with a leftover ACCEPTED registration keeps
    it (no new one-time password); only `replace_enrolled` registers it again."""
    from c8y_emulator.registry import ACCEPTED

    (mo_id,) = tenant.seed_devices(1, prefix="gw")  # gw-00000: enrolled
    tenant.register("gw-00000", "old-password-0000")
    tenant.registry.registrations["gw-00000"].status = ACCEPTED
    tenant.register("gw-00001", "old-password-0001")  # pending, never enrolled: replaced
    devices = [{"id": "gw-00000", "one_time_password": "new-password-0000"},
               {"id": "gw-00001", "one_time_password": "new-password-0001"}]
    admin = {"C8Y_USER": tenant.admin_user, "C8Y_PASSWORD": tenant.admin_password, "C8Y_TENANT": tenant.tenant_id}
    secrets = lambda: [tenant.admin_password, *(d["one_time_password"] for d in devices)]  # noqa: E731

    def play(replace_enrolled):
        inventory = write_inventory(tmp_path / "inventory.yml", {}, tenant={"url": tenant.url, "ca_bundle": str(tenant.ca_bundle)},
                                    devices=devices, replace_enrolled=replace_enrolled)
        run = run_playbook(PLAYBOOKS / "registration_replace.yml", inventory, tmp_path / "ansible", installed_collections,
                           secrets, env=admin)
        assert run.returncode == 0, run.output[-4000:]
        return run

    run = play(False)
    for task in ("replace, check", "replace"):
        rows = {row["id"]: row for row in run.result(task)["devices"]}
        assert rows["gw-00000"]["result"] == "enrolled" and rows["gw-00000"]["changed"] is False, task
        assert rows["gw-00000"]["status"] == ACCEPTED and rows["gw-00000"]["managed_object_id"] == mo_id, task
        assert "already enrolled" in rows["gw-00000"]["reason"], task
        assert rows["gw-00001"]["result"] == "replaced", task
    enrolled = tenant.registry.get("gw-00000")
    assert (enrolled.one_time_password, enrolled.status) == ("old-password-0000", ACCEPTED), "left alone"
    assert tenant.registry.get("gw-00001").one_time_password == "new-password-0001"

    run = play(True)
    rows = {row["id"]: row for row in run.result("replace")["devices"]}
    assert rows["gw-00000"]["result"] == "reregistered" and rows["gw-00000"]["changed"] is True
    assert tenant.registry.get("gw-00000").one_time_password == "new-password-0000"


def test_fetch_tenant_ca_false_is_suggested_only_to_a_user_without_the_role(tmp_path, tenant, installed_collections):
    """Wrong credentials or TLS fail whether the CA is read or not: no hint there. A 403 on the CA read is
    what `fetch_tenant_ca: false` avoids."""
    otp, wrong = "refusals-otp-0001", "wrong-admin-password"
    inventory = write_inventory(tmp_path / "inventory.yml", {}, tenant={"url": tenant.url, "ca_bundle": str(tenant.ca_bundle)},
                                one_time_password=otp, wrong_password=wrong, wrong_ca_bundle=str(tenant.tenant_ca_file))
    admin = {"C8Y_USER": tenant.admin_user, "C8Y_PASSWORD": tenant.admin_password, "C8Y_TENANT": tenant.tenant_id}
    tenant.fault("status", path="trusted-certificates", status=403)
    run = run_playbook(PLAYBOOKS / "registration_refusals.yml", inventory, tmp_path / "ansible", installed_collections,
                       lambda: [otp, wrong, tenant.admin_password], env=admin)
    assert run.returncode == 0, run.output[-4000:]
    messages = {task: run.result(task)["msg"] for task in ("wrong password", "TLS failure", "no role for the tenant CA")}
    assert "(401)" in messages["wrong password"], messages
    assert "TLS failure" in messages["TLS failure"], messages
    assert "(403)" in messages["no role for the tenant CA"] and "ROLE_TENANT_ADMIN" in messages["no role for the tenant CA"]
    hinted = {task for task, msg in messages.items() if "fetch_tenant_ca: false" in msg}
    assert hinted == {"no role for the tenant CA"}, messages
    assert all(run.outcome(task) == "failed" and run.result(task)["exit_name"] == "tenant_refused" for task in messages)
    assert tenant.registry.get("gw-0001") is None and not tenant.requests_to("bulkNewDeviceRequests")
