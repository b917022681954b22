"""The fleet example (examples/ansible/fleet.yml) as it is, on three devices in separate folders of
this machine, against the tenant emulator: the engine installed from the wheel on the controller and
on each device, generated one-time passwords, registration on the controller, the device role in
batches; one device with a stale registration fails alone; a later run changes nothing and registers
nothing."""

from __future__ import annotations

import sys
from pathlib import Path

from reconciler.basics.timestamps import utc_now
from reconciler.device.observe import observe_cert
from tests.ansible.ansible_run import ROOT, run_playbook, write_inventory

EXAMPLE = ROOT / "examples" / "ansible"
DEVICES = ("gw-a", "gw-b", "gw-c")
ROLE = "tedge_cert.c8y_ca.device : "
CERTIFICATE_TASK = ROLE + "Enroll or renew the certificate"
REGISTRATION_TASK = "Register the devices that need a first certificate"


def fleet_inventory(tmp_path: Path, tenant) -> Path:
    """The example's settings for devices that live in folders here, with the emulator as tenant."""
    hosts = {}
    for device in DEVICES:
        folder = tmp_path / device
        (folder / "device-certs").mkdir(parents=True)
        (folder / "root" / "etc" / "systemd" / "system").mkdir(parents=True)
        hosts[device] = {
            "device_config_dir": str(folder),
            "reconciler_state_file": str(folder / "reconcile.yaml"),
            # One machine, one engine: the devices share the venv the controller's play fills first (the
            # install into an empty venv per device is test_device_role's).
            "reconciler_venv": str(tmp_path / "controller-venv"),
            "reconciler_python": sys.executable,
            "reconciler_scheduler": "systemd",
            "device_root": str(folder / "root"),  # no systemd runs here: units and links go into a folder
            "c8y_credentials_dir": str(tmp_path / "credentials"),
            "device_tenant": {"url": tenant.url, "ca_bundle": str(tenant.ca_bundle)},
            "device_enrollment": {"max_wait": "2s", "retry_every": "1s"},
            "device_renewal": {"auth": "device-token", "token_url": tenant.token_url},
            "device_activation": {"strategy": "none", "verify": "none"},  # no thin-edge on this machine
            "ansible_become_method": "su",  # root already; this machine has no sudo
        }
    return write_inventory(tmp_path / "inventory.yml", hosts)


def run_fleet(tmp_path, tenant, collections, wheel):
    def secrets():
        passwords = [p.read_text().split()[0] for p in (tmp_path / "credentials").glob("*.otp")]
        return [*passwords, tenant.admin_password, *tenant.tokens_issued]

    admin = {"C8Y_USER": tenant.admin_user, "C8Y_PASSWORD": tenant.admin_password, "C8Y_TENANT": tenant.tenant_id,
             "ANSIBLE_CONFIG": str(EXAMPLE / "ansible.cfg")}
    extra = ["-e", f"reconciler_wheel={wheel}", "-e", f"c8y_controller_venv={tmp_path / 'controller-venv'}"]
    return run_playbook(EXAMPLE / "fleet.yml", tmp_path / "inventory.yml", tmp_path / "ansible", collections,
                        secrets, *extra, env=admin, timeout=600)


def valid_certificate(tmp_path: Path, device: str) -> bool:
    facts = observe_cert(tmp_path / device / "device-certs" / "tedge-certificate.pem")
    info = facts.info
    return info is not None and info.subject_cn == device and info.not_after > utc_now() and "Cumulocity" in info.issuer


def timer_enabled(tmp_path: Path, device: str) -> bool:
    return (tmp_path / device / "root" / "etc" / "systemd" / "system" / "timers.target.wants"
            / "tedge-cert-reconcile.timer").is_symlink()


def test_the_fleet_enrolls_one_stale_registration_fails_alone_and_a_later_run_changes_nothing(
    tmp_path, tenant, installed_collections, device_wheel
):
    fleet_inventory(tmp_path, tenant)
    tenant.register("gw-b", "registered-by-hand-long-ago")  # another password than the one generated

    first = run_fleet(tmp_path, tenant, installed_collections, device_wheel)
    assert first.returncode == 2, first.output[-4000:]
    registered = first.result(REGISTRATION_TASK, "gw-a")
    assert {row["id"]: row["result"] for row in registered["devices"]} == {
        "gw-a": "created", "gw-b": "present", "gw-c": "created"}
    outcomes = {host: r["outcome"] for host, r in first.results(CERTIFICATE_TASK).items()}
    assert outcomes == {"gw-a": "changed", "gw-b": "failed", "gw-c": "changed"}
    failure = first.result(CERTIFICATE_TASK, "gw-b")
    assert failure["exit_name"] == "timed_out"
    assert "not with this one-time password (401): Invalid credentials" in failure["msg"]
    assert [valid_certificate(tmp_path, d) for d in DEVICES] == [True, False, True]
    assert [timer_enabled(tmp_path, d) for d in DEVICES] == [True, False, True]
    assert len(list((tmp_path / "credentials").glob("*.otp"))) == 3

    tenant.registry.delete("gw-b")  # the stale registration removed, as an operator would in the UI
    second = run_fleet(tmp_path, tenant, installed_collections, device_wheel)
    assert second.returncode == 0, second.output[-4000:]
    outcomes = {host: r["outcome"] for host, r in second.results(CERTIFICATE_TASK).items()}
    assert outcomes == {"gw-a": "ok", "gw-b": "changed", "gw-c": "ok"}
    assert all(valid_certificate(tmp_path, d) for d in DEVICES)
    assert all(timer_enabled(tmp_path, d) for d in DEVICES)
    uploads = len(tenant.requests_to("bulkNewDeviceRequests"))

    third = run_fleet(tmp_path, tenant, installed_collections, device_wheel)
    assert third.returncode == 0, third.output[-4000:]
    assert {r["outcome"] for r in third.records} <= {"ok", "skipped"}
    assert third.result(REGISTRATION_TASK, "gw-a")["devices"] == []
    assert len(tenant.requests_to("bulkNewDeviceRequests")) == uploads, "an enrolled device was registered again"


def test_the_collection_readme_shows_the_fleet_playbook_as_it_is():
    assert (EXAMPLE / "fleet.yml").read_text() in (ROOT / "ansible" / "README.md").read_text()
