"""The certificate module's renew_now and rotate_key through a real `ansible-playbook` run against the emulator."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.ansible.ansible_run import run_playbook, write_inventory
from tests.ansible.test_certificate_playbook import device_host
from tests.device_files import converged_device

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"


def _run(tmp_path, tenant, collections, device: Path, *args: str, env: dict | None = None, **options):
    hosts = {"gw-0001": {**device_host(tenant, device), "renew_now": True, "rotate_key": False, **options}}
    inventory = write_inventory(tmp_path / "inventory.yml", hosts)
    secrets = lambda: [tenant.admin_password, *tenant.tokens_issued]  # noqa: E731
    return run_playbook(PLAYBOOKS / "renew_now.yml", inventory, tmp_path / "ansible", collections, secrets, *args,
                        env=env)


def test_renew_now_renews_a_certificate_that_is_not_due_then_rotates_the_key(tmp_path, tenant, installed_collections):
    device = tmp_path / "gw-0001"
    key, cert = converged_device(device, age=timedelta(days=1), ca=tenant.ca)
    old_key, old_cert = key.read_bytes(), cert.read_bytes()

    check = _run(tmp_path, tenant, installed_collections, device, "--check")
    assert check.returncode == 0, check.output[-4000:]
    planned = check.result("certificate", "gw-0001")
    assert planned["status"] == "pending" and planned["reasons"] == ["RenewalRequested"]
    assert not tenant.requests_to("simplereenroll") and cert.read_bytes() == old_cert

    kept = _run(tmp_path, tenant, installed_collections, device)
    assert kept.returncode == 0, kept.output[-4000:]
    result = kept.result("certificate", "gw-0001")
    assert kept.outcome("certificate", "gw-0001") == "changed" and result["reasons"] == ["RenewalRequested"]
    assert key.read_bytes() == old_key and cert.read_bytes() != old_cert
    assert Path(result["backup_file"]).read_bytes() == old_cert
    assert len(tenant.requests_to("simplereenroll")) == 1

    rotated = _run(tmp_path, tenant, installed_collections, device, rotate_key=True)
    assert rotated.returncode == 0, rotated.output[-4000:]
    assert key.read_bytes() != old_key
    assert len(tenant.requests_to("simplereenroll")) == 2


def test_rotate_key_without_renew_now_fails_as_bad_input(tmp_path, tenant, installed_collections):
    device = tmp_path / "gw-0001"
    converged_device(device, age=timedelta(days=1), ca=tenant.ca)
    run = _run(tmp_path, tenant, installed_collections, device, renew_now=False, rotate_key=True)
    result = run.result("certificate", "gw-0001")
    assert run.returncode == 2 and result["exit_name"] == "bad_input"
    assert "rotate_key: needs renew_now" in result["msg"]
    assert not tenant.requests


def test_the_activation_command_gets_the_environment_the_task_was_given(tmp_path, tenant, installed_collections,
                                                                       monkeypatch):
    """pydantic's plugins are off while the engine loads, not for the commands a run starts (as the CLI);
    a value the caller set is theirs, and stays."""
    device = tmp_path / "gw-0001"
    converged_device(device, age=timedelta(days=1), ca=tenant.ca)
    recorded = device / "activation.env"

    monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS", raising=False)

    def activation_environment(**env) -> dict:
        run = _run(tmp_path, tenant, installed_collections, device, env=env)
        assert run.returncode == 0 and run.outcome("certificate", "gw-0001") == "changed", run.output[-4000:]
        pairs = (line.partition("=") for line in recorded.read_text().splitlines())
        return {name: value for name, _, value in pairs}

    assert "PYDANTIC_DISABLE_PLUGINS" not in activation_environment()
    assert activation_environment(PYDANTIC_DISABLE_PLUGINS="1")["PYDANTIC_DISABLE_PLUGINS"] == "1"
