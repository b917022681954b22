"""The certificate module through real `ansible-playbook -vvv` runs against localhost and the tenant
emulator, with the collection installed from its tarball."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from reconciler.basics.layout import lock_file
from reconciler.basics.lock import exclusive_lock
from tests.ansible.ansible_run import run_playbook, write_inventory
from tests.device_files import converged_device

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
OTP = "playbook-one-time-pass-77"


def device_host(tenant, device_dir: Path, **overrides) -> dict:
    """Inventory variables of a device under `device_dir` whose activation command records its environment."""
    (device_dir / "device-certs").mkdir(parents=True, exist_ok=True)
    return {
        "device_dir": str(device_dir),
        "lock_timeout": 60,
        "one_time_password": OTP,
        "max_wait": "5s",
        "tenant": {"url": tenant.url, "ca_bundle": str(tenant.ca_bundle), "timeout": "5s"},
        "renewal": {"auth": "device-token", "token_url": tenant.token_url},
        "activation": {
            "strategy": "command",
            "command": ["sh", "-c", 'env > "$0"', str(device_dir / "activation.env")],
            "verify": "none",
        },
        **overrides,
    }


def run_certificate(tmp_path, tenant, collections, hosts: dict, *args: str, env: dict | None = None):
    inventory = write_inventory(tmp_path / "inventory.yml", hosts)
    secrets = lambda: [OTP, tenant.admin_password, *tenant.tokens_issued]  # noqa: E731
    return run_playbook(PLAYBOOKS / "certificate.yml", inventory, tmp_path / "ansible", collections, secrets, *args, env=env)


def test_check_apply_check_apply_is_changed_changed_ok_ok(tmp_path, tenant, installed_collections):
    tenant.register("gw-0001", OTP)
    device = tmp_path / "gw-0001"
    hosts = {"gw-0001": device_host(tenant, device)}
    outcomes, statuses = [], []
    for args in (["--check", "--diff"], ["--diff"], ["--check", "--diff"], ["--diff"]):
        run = run_certificate(tmp_path, tenant, installed_collections, hosts, *args)
        assert run.returncode == 0, run.output[-4000:]
        # Pipelined: the arguments, the password among them, went over stdin, not into a file put on the host.
        assert "AnsiballZ_certificate.py" not in run.output
        outcomes.append(run.outcome("certificate", "gw-0001"))
        statuses.append(run.result("certificate", "gw-0001")["status"])
    assert outcomes == ["changed", "changed", "ok", "ok"]
    assert statuses == ["pending", "changed", "converged", "converged"]

    result, info = run.result("certificate", "gw-0001"), run.result("certificate_info", "gw-0001")
    assert info["serial"] == result["certificate"]["serial"] and info["subject_cn"] == "gw-0001"
    assert info["renewal_due"] is False and info["renew_before"] == "400d"
    assert result["diff"]["before"] == result["diff"]["after"]
    assert len(tenant.requests_to("simpleenroll")) == 1

    env_file = device / "activation.env"
    assert env_file.exists(), "the activation command ran"
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "inventory.yml"]
    assert not [p for p in written if OTP.encode() in p.read_bytes()], "the one-time password reached a file"


def test_renewal_in_the_window_check_touches_nothing_apply_backs_up(tmp_path, tenant, installed_collections):
    device = tmp_path / "gw-0001"
    _, cert = converged_device(device, age=timedelta(days=340), ca=tenant.ca)
    old = cert.read_bytes()
    hosts = {"gw-0001": device_host(tenant, device)}

    check = run_certificate(tmp_path, tenant, installed_collections, hosts, "--check", "--diff")
    assert check.returncode == 0, check.output[-4000:]
    planned = check.result("certificate", "gw-0001")
    assert check.outcome("certificate", "gw-0001") == "changed" and planned["status"] == "pending"
    assert planned["reasons"] == ["RenewalDue"] and "backup_file" not in planned
    assert cert.read_bytes() == old and sorted(p.name for p in cert.parent.iterdir()) == [cert.name, "tedge-private-key.pem"]
    assert tenant.requests_to("simplereenroll") == []

    apply = run_certificate(tmp_path, tenant, installed_collections, hosts, "--diff")
    assert apply.returncode == 0, apply.output[-4000:]
    renewed = apply.result("certificate", "gw-0001")
    assert apply.outcome("certificate", "gw-0001") == "changed" and renewed["reasons"] == ["RenewalDue"]
    assert Path(renewed["backup_file"]).read_bytes() == old and cert.read_bytes() != old
    assert renewed["diff"]["before"]["serial"] != renewed["diff"]["after"]["serial"]
    assert "backup" in {a["action"] for a in renewed["actions"] if a["status"] == "done"}

    again = run_certificate(tmp_path, tenant, installed_collections, hosts, "--check")
    assert again.outcome("certificate", "gw-0001") == "ok"


def test_a_held_lock_and_a_missing_registration_fail_distinguishably(tmp_path, tenant, installed_collections):
    locked_dir, unregistered_dir = tmp_path / "gw-locked", tmp_path / "gw-unregistered"
    hosts = {
        "gw-locked": device_host(tenant, locked_dir, lock_timeout=0),
        "gw-unregistered": device_host(tenant, unregistered_dir, max_wait="1s"),
    }
    with exclusive_lock(lock_file(locked_dir / "device-certs" / "tedge-certificate.pem"), 1):
        run = run_certificate(tmp_path, tenant, installed_collections, hosts)
    assert run.returncode == 2
    assert {host: r["outcome"] for host, r in run.results("certificate").items()} == {
        "gw-locked": "failed", "gw-unregistered": "failed"}
    locked, unregistered = run.result("certificate", "gw-locked"), run.result("certificate", "gw-unregistered")
    assert (locked["exit_name"], locked["exit_code"]) == ("locked", 5)
    assert "lock" in locked["msg"]
    assert (unregistered["exit_name"], unregistered["exit_code"]) == ("timed_out", 7)
    assert "No newDeviceRequest found" in unregistered["msg"]
