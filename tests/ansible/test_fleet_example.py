"""The fleet example (examples/ansible/fleet.yml) as it is, on three devices in separate folders of
this machine, against the tenant emulator: generated one-time passwords, registration on the
controller, enrollment in batches; one device with a stale registration fails alone; a later run
changes nothing."""

from __future__ import annotations

from pathlib import Path

from reconciler.basics.timestamps import utc_now
from reconciler.device.observe import observe_cert
from tests.ansible.ansible_run import ROOT, run_playbook, write_inventory

EXAMPLE = ROOT / "examples" / "ansible"
DEVICES = ("gw-a", "gw-b", "gw-c")


def fleet_inventory(tmp_path: Path, tenant) -> Path:
    """The example's settings for devices that live in folders here, with the emulator as tenant."""
    hosts = {}
    for device in DEVICES:
        (tmp_path / device / "device-certs").mkdir(parents=True)
        hosts[device] = {
            "c8y_config_dir": str(tmp_path / device),
            "c8y_credentials_dir": str(tmp_path / "credentials"),
            "c8y_tenant": {"url": tenant.url, "ca_bundle": str(tenant.ca_bundle)},
            "c8y_enrollment_max_wait": "2s",
            "c8y_enrollment_retry_every": "1s",
            "c8y_renewal": {"auth": "device-token", "token_url": tenant.token_url},
            "c8y_activation": {"strategy": "none", "verify": "none"},  # no thin-edge on this machine
        }
    return write_inventory(tmp_path / "inventory.yml", hosts)


def run_fleet(tmp_path, tenant, collections):
    def secrets():
        passwords = [p.read_text().split()[0] for p in (tmp_path / "credentials").glob("*.otp")]
        return [*passwords, tenant.admin_password, *tenant.tokens_issued]

    admin = {"C8Y_USER": tenant.admin_user, "C8Y_PASSWORD": tenant.admin_password, "C8Y_TENANT": tenant.tenant_id,
             "ANSIBLE_CONFIG": str(EXAMPLE / "ansible.cfg")}
    return run_playbook(EXAMPLE / "fleet.yml", tmp_path / "inventory.yml", tmp_path / "ansible", collections,
                        secrets, env=admin)


def valid_certificate(tmp_path: Path, device: str) -> bool:
    facts = observe_cert(tmp_path / device / "device-certs" / "tedge-certificate.pem")
    info = facts.info
    return info is not None and info.subject_cn == device and info.not_after > utc_now() and "Cumulocity" in info.issuer


def test_the_fleet_enrolls_one_stale_registration_fails_alone_and_a_later_run_changes_nothing(
    tmp_path, tenant, installed_collections
):
    fleet_inventory(tmp_path, tenant)
    tenant.register("gw-b", "registered-by-hand-long-ago")  # another password than the one generated

    first = run_fleet(tmp_path, tenant, installed_collections)
    assert first.returncode == 2, first.output[-4000:]
    registered = first.result("Register the devices that need a first certificate", "gw-a")
    assert {row["id"]: row["result"] for row in registered["devices"]} == {
        "gw-a": "created", "gw-b": "present", "gw-c": "created"}
    outcomes = {host: r["outcome"] for host, r in first.results("Bring the certificate to the desired state").items()}
    assert outcomes == {"gw-a": "changed", "gw-b": "failed", "gw-c": "changed"}
    failure = first.result("Bring the certificate to the desired state", "gw-b")
    assert failure["exit_name"] == "timed_out"
    assert "not with this one-time password (401): Invalid credentials" in failure["msg"]
    assert [valid_certificate(tmp_path, d) for d in DEVICES] == [True, False, True]
    assert len(list((tmp_path / "credentials").glob("*.otp"))) == 3

    tenant.registry.delete("gw-b")  # the stale registration removed, as an operator would in the UI
    second = run_fleet(tmp_path, tenant, installed_collections)
    assert second.returncode == 0, second.output[-4000:]
    outcomes = {host: r["outcome"] for host, r in second.results("Bring the certificate to the desired state").items()}
    assert outcomes == {"gw-a": "ok", "gw-b": "changed", "gw-c": "ok"}
    assert all(valid_certificate(tmp_path, d) for d in DEVICES)

    third = run_fleet(tmp_path, tenant, installed_collections)
    assert third.returncode == 0, third.output[-4000:]
    assert {r["outcome"] for r in third.records} == {"ok"}
    assert len(third.records) == 3 + 3 + 1 + 3  # plan and set_fact per device, one registration, certificate


def test_the_collection_readme_shows_the_fleet_playbook_as_it_is():
    assert (EXAMPLE / "fleet.yml").read_text() in (ROOT / "ansible" / "README.md").read_text()
