"""The registration module through a real `ansible-playbook -vvv` run on the controller (localhost),
admin credentials from the C8Y_* environment as for `reconcile register`."""

from __future__ import annotations

from pathlib import Path

from tests.ansible.ansible_run import run_playbook, write_inventory

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
OTPS = {"gw-0001": "registration-pass-0001", "gw-0002": "registration-pass-0002"}


def test_register_check_register_again_replace_remove(tmp_path, tenant, installed_collections):
    devices = [{"id": device_id, "one_time_password": otp} for device_id, otp in OTPS.items()]
    inventory = write_inventory(
        tmp_path / "inventory.yml", {}, tenant={"url": tenant.url, "ca_bundle": str(tenant.ca_bundle)}, devices=devices
    )
    admin = {"C8Y_USER": tenant.admin_user, "C8Y_PASSWORD": tenant.admin_password, "C8Y_TENANT": tenant.tenant_id}
    secrets = lambda: [*OTPS.values(), tenant.admin_password]  # noqa: E731
    run = run_playbook(PLAYBOOKS / "registration.yml", inventory, tmp_path / "ansible", installed_collections, secrets,
                       env=admin)
    assert run.returncode == 0, run.output[-4000:]

    def seen(task):
        return run.outcome(task), [row["result"] for row in run.result(task)["devices"]]

    assert seen("register, check") == ("changed", ["created", "created"])
    assert seen("register") == ("changed", ["created", "created"])
    assert seen("register again") == ("ok", ["present", "present"])
    assert seen("register with replace") == ("changed", ["replaced"])
    assert seen("remove, check") == ("changed", ["removed", "removed"])
    assert seen("remove") == ("changed", ["removed", "removed"])
    assert seen("remove again") == ("ok", ["absent", "absent"])
    assert tenant.registry.registrations == {}
    assert len(tenant.requests_to("bulkNewDeviceRequests")) == 2, "check mode uploaded nothing"
