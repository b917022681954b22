"""The certificate module in this process: options become the desired state, the engine's report
becomes the result. (The same behaviour across real ansible-playbook runs: test_certificate_playbook.py.)"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from reconciler.basics.layout import lock_file
from reconciler.basics.lock import exclusive_lock
from tests.ansible.module_call import call_module
from tests.device_files import converged_device

pytestmark = pytest.mark.usefixtures("collection_imports")

OTP = "unit-test-one-time-pass"
# For the tests that end before anything is sent: no emulator to start and stop.
NO_TENANT = SimpleNamespace(url="https://127.0.0.1:9", ca_bundle="/nonexistent.pem", token_url="https://127.0.0.1:9/token")


def device_args(tenant, config_dir, **sections) -> dict:
    """Options for gw-0001 under `config_dir`, against the emulator, activation left out."""
    (config_dir / "device-certs").mkdir(parents=True, exist_ok=True)
    return {
        "device_id": "gw-0001",
        "config_dir": str(config_dir),
        "tenant": {"url": tenant.url, "ca_bundle": str(tenant.ca_bundle), "timeout": "5s"},
        "enrollment": {"one_time_password": OTP, "retry_every": "1s", "max_wait": "3s"},
        "renewal": {"auth": "device-token", "token_url": tenant.token_url},
        "activation": {"strategy": "none", "verify": "none"},
        **sections,
    }


def test_check_mode_plans_the_enrollment_and_writes_nothing(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    failed, result = call_module("certificate", device_args(tenant, tmp_path), check_mode=True, diff=True)
    assert not failed and result["changed"] is True
    assert result["status"] == "pending" and result["reasons"][0] == "KeyMissing"
    assert {a["status"] for a in result["actions"]} == {"planned"}
    assert "enroll" in [a["action"] for a in result["actions"]]
    assert list((tmp_path / "device-certs").iterdir()) == []
    assert result["diff"]["before"] == {} and "enroll [KeyMissing]" in result["diff"]["after"]["pending"]
    assert tenant.requests_to("simpleenroll") == []


def test_apply_enrolls_with_the_password_held_in_memory_then_converges(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    args = device_args(tenant, tmp_path)
    failed, result = call_module("certificate", args)
    assert not failed, result["msg"]
    assert result["changed"] is True and result["status"] == "changed"
    assert result["certificate"]["subject_cn"] == "gw-0001" and result["certificate"]["issuer"]
    assert result["exit_code"] == 0 and result["exit_name"] == "ok"
    assert not [name for name, value in os.environ.items() if OTP in value]

    failed, again = call_module("certificate", args)
    assert not failed and again["changed"] is False and again["status"] == "converged"
    assert again["actions"] == [] and "converged" in again["message"]
    assert again["certificate"]["serial"] == result["certificate"]["serial"]
    assert OTP not in json.dumps(result) + json.dumps(again)


def test_invalid_values_read_like_the_cli(tmp_path):
    args = device_args(NO_TENANT, tmp_path, device_id="not a device id", paths={"key_mode": "999"})
    failed, result = call_module("certificate", args)
    assert failed and result["exit_name"] == "bad_input" and result["exit_code"] == 3
    assert result["msg"] == (
        "device_id: must be 1 to 64 letters, digits or _ . : @ -, starting with a letter or digit; "
        "paths.key_mode: expected an octal file mode such as '0600' (quote it in YAML)"
    )


def test_an_empty_password_is_bad_input_not_a_missing_one(tmp_path):
    args = device_args(NO_TENANT, tmp_path, enrollment={"one_time_password": ""})
    failed, result = call_module("certificate", args)
    assert failed and result["msg"] == "enrollment.one_time_password: must not be empty" and result["exit_code"] == 3


def test_a_state_file_is_read_as_the_cli_reads_it(tmp_path):
    state = tmp_path / "reconcile.yaml"
    state.write_text("device_id: gw-0001\nvalidity:\n  renew_before: soon\n")
    failed, result = call_module("certificate", {"state_file": str(state), "config_dir": str(tmp_path)})
    assert failed and result["msg"].startswith(f"{state}:3: validity.renew_before: ")


def test_without_a_device_id_the_config_dirs_reconcile_yaml_is_the_desired_state(tmp_path, tenant):
    converged_device(tmp_path, ca=tenant.ca)
    (tmp_path / "reconcile.yaml").write_text(
        yaml.safe_dump({"device_id": "gw-0001", "activation": {"strategy": "none", "verify": "none"}})
    )
    failed, result = call_module("certificate", {"config_dir": str(tmp_path)}, check_mode=True)
    assert not failed and result["status"] == "converged" and result["changed"] is False


def test_a_state_file_excludes_inline_sections(tmp_path):
    failed, result = call_module("certificate", {"state_file": str(tmp_path / "x.yaml"), "validity": {"renew_before": "9d"}})
    assert failed and "mutually exclusive: state_file|validity" in result["msg"]


def test_a_tenant_beside_a_state_file_is_ignored_with_a_warning(tmp_path):
    """module_defaults of the action group may give every task a tenant; the file's own tenant wins."""
    state = tmp_path / "state.yaml"
    state.write_text(f"device_id: gw-0001\ntenant: {{url: {NO_TENANT.url}}}\nactivation: {{strategy: none, verify: none}}\n")
    converged_device(tmp_path)
    args = {"state_file": str(state), "config_dir": str(tmp_path), "tenant": {"url": "https://elsewhere.example"}}
    failed, result = call_module("certificate", args, check_mode=True)
    assert not failed, result["msg"]
    assert result["status"] == "converged"
    assert "tenant: ignored, as the desired state is read from a file" in json.dumps(result["warnings"])


def test_the_diff_shows_the_key_files_mode_owner_and_group(tmp_path):
    """A key chmod'ed to 0644 is fixed, and the diff says so (never the key itself)."""
    key, _ = converged_device(tmp_path)
    key.chmod(0o644)
    failed, result = call_module("certificate", device_args(NO_TENANT, tmp_path), diff=True)
    assert not failed, result["msg"]
    assert result["changed"] is True and "fix_permissions" in [a["action"] for a in result["actions"]]
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert (before["key_mode"], after["key_mode"]) == ("0644", "0600")
    assert before["key_uid"] == after["key_uid"] == os.getuid() and before["key_gid"] == os.getgid()
    assert before["uid"] == os.getuid() and "PRIVATE KEY" not in json.dumps(result)


def test_force_is_a_deprecated_alias_of_ignore_backoff(tmp_path):
    converged_device(tmp_path)
    failed, result = call_module("certificate", {**device_args(NO_TENANT, tmp_path), "force": True}, check_mode=True)
    assert not failed, result["msg"]
    (deprecation,) = result["deprecations"]
    text = json.dumps(deprecation)
    assert "'force'" in text and "1.0.0" in text and "tedge_cert.c8y_ca" in text, text


def test_enrollment_without_a_password_is_blocked(tmp_path):
    args = device_args(NO_TENANT, tmp_path, enrollment={"max_wait": "0"})
    failed, result = call_module("certificate", args)
    assert failed and result["status"] == "blocked" and result["exit_name"] == "blocked"
    assert [b["reason"] for b in result["blockers"]] == ["OneTimePasswordMissing"]
    assert result["msg"] == result["blockers"][0]["message"]


def test_a_held_lock_fails_as_locked(tmp_path):
    args = device_args(NO_TENANT, tmp_path, lock_timeout=0)
    with exclusive_lock(lock_file(tmp_path / "device-certs" / "tedge-certificate.pem"), 1):
        failed, result = call_module("certificate", args)
    assert failed and result["exit_name"] == "locked" and result["exit_code"] == 5
    assert "lock" in result["msg"]


def test_a_registration_that_never_appears_times_out(tmp_path, tenant):
    args = device_args(tenant, tmp_path, enrollment={"one_time_password": OTP, "retry_every": "1s", "max_wait": "1s"})
    failed, result = call_module("certificate", args)
    assert failed and result["exit_name"] == "timed_out" and result["exit_code"] == 7
    enroll = next(a for a in result["actions"] if a["action"] == "enroll")
    assert enroll["status"] == "failed" and result["status"] == "failed"


def test_renewal_returns_the_backup_and_a_diff_without_key_material(tmp_path, tenant):
    _, cert = converged_device(tmp_path, age=timedelta(days=340), ca=tenant.ca)
    old = cert.read_bytes()
    failed, result = call_module("certificate", device_args(tenant, tmp_path), diff=True)
    assert not failed, result["msg"]
    assert result["reasons"] == ["RenewalDue"]
    backup = result["backup_file"]
    assert backup.endswith("/certificate.pem") and Path(backup).read_bytes() == old
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert before["serial"] != after["serial"] and after["subject_cn"] == "gw-0001"
    assert "PRIVATE KEY" not in json.dumps(result)


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf")])
def test_a_negative_or_endless_lock_timeout_is_bad_input(tmp_path, seconds):
    failed, result = call_module("certificate", device_args(NO_TENANT, tmp_path, lock_timeout=seconds))
    assert failed and result["exit_code"] == 3
    assert result["msg"] == "lock_timeout: must be a finite number of seconds, not negative"


def test_after_a_failure_with_the_tenant_a_run_backs_off_check_mode_plans_and_ignore_backoff_asks(tmp_path, tenant):
    args = device_args(tenant, tmp_path, enrollment={"one_time_password": OTP, "retry_every": "1s", "max_wait": "1s"})
    assert call_module("certificate", args)[1]["exit_name"] == "timed_out"  # not registered yet
    failed, held = call_module("certificate", args)
    assert failed and held["exit_name"] == "backing_off" and held["exit_code"] == 9
    assert held["backoff"]["failures"] == 1 and held["backoff"]["reason"] == "enroll:timed_out"
    asked = len(tenant.requests_to("simpleenroll"))
    failed, planned = call_module("certificate", args, check_mode=True)
    assert not failed and planned["changed"] is True and planned["status"] == "backoff" and planned["backoff"]
    tenant.register("gw-0001", OTP)
    failed, forced = call_module("certificate", {**args, "ignore_backoff": True})
    assert not failed, forced["msg"]
    assert forced["status"] == "changed" and len(tenant.requests_to("simpleenroll")) == asked + 1


def test_a_state_file_with_the_password_in_memory_enrolls(tmp_path, tenant):
    """What the device role does: the desired state in a file, the one-time password beside it in memory."""
    tenant.register("gw-0001", OTP)
    (tmp_path / "device-certs").mkdir()
    state = tmp_path / "reconcile.yaml"
    state.write_text(yaml.safe_dump({
        "device_id": "gw-0001",
        "tenant": {"url": tenant.url, "ca_bundle": str(tenant.ca_bundle), "timeout": "5s"},
        "enrollment": {"one_time_password_file": str(tmp_path / "no-such-file"), "max_wait": "3s", "retry_every": "1s"},
        "renewal": {"auth": "device-token", "token_url": tenant.token_url},
        "activation": {"strategy": "none", "verify": "none"},
    }))
    args = {"state_file": str(state), "config_dir": str(tmp_path), "enrollment": {"one_time_password": OTP}}
    failed, result = call_module("certificate", args)
    assert not failed, result["msg"]
    assert result["changed"] is True and result["certificate"]["subject_cn"] == "gw-0001"
    assert len(tenant.requests_to("simpleenroll")) == 1
    assert OTP not in json.dumps(result) and not [name for name, value in os.environ.items() if OTP in value]


def test_a_state_file_takes_no_other_enrollment_option(tmp_path):
    state = tmp_path / "reconcile.yaml"
    state.write_text("device_id: gw-0001\n")
    args = {"state_file": str(state), "enrollment": {"one_time_password": OTP, "max_wait": "1s"}}
    failed, result = call_module("certificate", args)
    assert failed and result["exit_name"] == "bad_input"
    assert result["msg"].startswith("enrollment.max_wait: comes from the desired-state file")
