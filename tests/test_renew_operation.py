"""`reconcile operation renew|activate|check` (the certificate_renew workflow's steps) and
`reconcile install-operation`, as processes against the emulator."""

from __future__ import annotations

import signal
import stat
import time
from datetime import timedelta

from reconciler.basics import logs
from reconciler.basics.layout import lock_file, state_file
from reconciler.basics.lock import exclusive_lock
from reconciler.cli import operation
from reconciler.cli.main import main
from reconciler.x509.facts import certificate_info, load_certificates
from tests.device_files import converged_device, write_state
from tests.reconcile_cli import run as reconcile
from tests.tedge_workflow_output import step_output
from tests.tenant_device import make_device


def _device(tmp_path, tenant, **sections):
    converged_device(tmp_path, age=timedelta(days=1), ca=tenant.ca)
    return make_device(tmp_path, tenant, **sections)


def _step(device, step: str, *args: str):
    """`reconcile operation <step>` on `device` (the command first, as the workflow runs it)."""
    return reconcile("operation", step, "-f", str(device.state), "--config-dir", str(device.config_dir), *args)


def _serial(pem: bytes) -> str:
    return certificate_info(load_certificates(pem)[0]).serial


def test_renew_stages_then_activate_swaps_then_check_reports_the_live_certificate(tmp_path, tenant):
    device = _device(tmp_path, tenant)
    before = device.live()
    renew = _step(device, "renew", "--rotate-key=")  # what ${.payload.rotateKey} gives without the parameter
    assert renew.returncode == 0, renew.stderr
    staged = step_output(renew.stdout)
    assert set(staged) == {"stagedSerial", "stagedNotAfter", "rotateKey", "stagedRun"} and staged["rotateKey"] is False
    assert device.live() == before and _serial(device.candidate.read_bytes()) == staged["stagedSerial"]
    assert len(tenant.requests_to("simplereenroll")) == 1

    assert _step(device, "activate").returncode == 0
    check = _step(device, "check", f"--serial={staged['stagedSerial']}", f"--after-run={staged['stagedRun']}",
                       "--timeout=10")
    assert check.returncode == 0, check.stderr
    result = step_output(check.stdout)
    assert result["serial"] == staged["stagedSerial"] == _serial(device.live()[1])
    assert result["notAfter"] == staged["stagedNotAfter"] and result["serial"] in result["result"]
    assert device.live()[0] == before[0], "the key is kept"
    assert len(tenant.requests_to("simplereenroll")) == 1


def test_renew_with_rotate_key_true_stages_a_new_key(tmp_path, tenant):
    device = _device(tmp_path, tenant)
    renew = _step(device, "renew", "--rotate-key=true")
    assert renew.returncode == 0, renew.stderr
    assert step_output(renew.stdout)["rotateKey"] is True
    assert device.key.with_name(device.key.name + ".new").exists()
    before = device.live()
    assert _step(device, "activate").returncode == 0
    assert device.live()[0] != before[0]


def test_renew_is_refused_while_another_reconcile_holds_the_lock(tmp_path, tenant):
    device = _device(tmp_path, tenant)
    with exclusive_lock(lock_file(device.cert), 1):
        started = time.monotonic()
        renew = _step(device, "renew")
    assert renew.returncode == 5 and time.monotonic() - started < 20, "refused at once, not after a wait"
    assert "another reconcile holds the lock" in step_output(renew.stdout)["reason"]
    assert not tenant.requests_to("simplereenroll")


def test_a_tenant_failure_ends_renew_with_the_engines_message(tmp_path, tenant):
    device = _device(tmp_path, tenant)
    tenant.refuse_tokens = True
    renew = _step(device, "renew")
    assert renew.returncode == 6
    assert "refused the device certificate for a token (401)" in step_output(renew.stdout)["reason"]
    assert not device.candidate.exists()


def test_check_reports_a_failed_activation_with_the_engines_message(tmp_path, tenant):
    device = _device(tmp_path, tenant, activation={"strategy": "command", "command": ["false"], "verify": "none"})
    before = device.live()
    staged = step_output(_step(device, "renew").stdout)
    assert _step(device, "activate").returncode == 1
    check = _step(device, "check", f"--serial={staged['stagedSerial']}", f"--after-run={staged['stagedRun']}",
                       "--timeout=10")
    assert check.returncode == 1
    reason = step_output(check.stdout)["reason"]
    assert "false" in reason and "exit" in reason, reason
    assert device.live() == before, "rolled back"


def test_check_times_out_when_no_activation_runs(tmp_path, tenant):
    device = _device(tmp_path, tenant)
    staged = step_output(_step(device, "renew").stdout)
    check = _step(device, "check", f"--serial={staged['stagedSerial']}", f"--after-run={staged['stagedRun']}",
                       "--timeout=1")
    assert check.returncode == 1
    assert "still staged after 1s" in step_output(check.stdout)["reason"]


def test_check_with_an_unreadable_run_history_still_judges_by_the_staged_certificate(tmp_path, tenant):
    device = _device(tmp_path, tenant)
    staged = step_output(_step(device, "renew").stdout)
    state_file(device.cert).write_text("{torn")  # a power cut may roll it back: it is written without fsync
    check = _step(device, "check", f"--serial={staged['stagedSerial']}", f"--after-run={staged['stagedRun']}",
                  "--timeout=1")
    assert check.returncode == 1, check.stderr
    assert "still staged after 1s" in step_output(check.stdout)["reason"]
    assert "internal error" not in check.stderr


def test_a_bug_in_a_step_still_ends_the_operation_with_a_reason(tmp_path, monkeypatch, capsys):
    converged_device(tmp_path)
    state = write_state(tmp_path)

    def broken(spec, args):
        raise RuntimeError("boom")

    monkeypatch.setitem(operation.STEPS, "renew", broken)
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # main() would keep its SIGTERM handler in this process
    monkeypatch.setattr(logs, "_device_id", None)  # and its logging settings
    monkeypatch.setattr(logs, "_json", False)
    assert main(["operation", "renew", "-f", str(state), "--config-dir", str(tmp_path)]) == 1
    out = capsys.readouterr()
    assert step_output(out.out)["reason"] == "internal error: RuntimeError: boom (a bug: please report it)"
    assert "Traceback" not in out.err


def test_check_ends_failed_when_another_run_holds_the_lock_past_its_timeout(tmp_path, tenant):
    device = _device(tmp_path, tenant)
    staged = step_output(_step(device, "renew").stdout)
    with exclusive_lock(lock_file(device.cert), 1):
        check = _step(device, "check", f"--serial={staged['stagedSerial']}", f"--after-run={staged['stagedRun']}",
                      "--timeout=1")
    assert check.returncode == 1, check.stderr  # a truthful FAILED for the operation, not exit 5 "locked"
    assert "another reconcile run still holds the lock" in step_output(check.stdout)["reason"]


def test_a_bad_rotate_key_value_is_bad_input(tmp_path, tenant):
    device = _device(tmp_path, tenant)
    renew = _step(device, "renew", "--rotate-key=yes")
    assert renew.returncode == 3 and "--rotate-key" in step_output(renew.stdout)["reason"]


def test_install_operation_writes_the_workflow_and_the_template(tmp_path):
    result = reconcile("install-operation", "--config-dir", str(tmp_path), "--reconcile-command", "/opt/bin/reconcile")
    assert result.returncode == 0, result.stderr
    workflow = tmp_path / "operations" / "certificate_renew.toml"
    template = tmp_path / "operations" / "c8y" / "c8y_RenewCertificate.template"
    assert stat.S_IMODE(workflow.stat().st_mode) == 0o644 and stat.S_IMODE(template.stat().st_mode) == 0o644
    text = workflow.read_text()
    assert f"/opt/bin/reconcile operation renew --config-dir {tmp_path}" in text
    assert 'on_fragment = "c8y_RenewCertificate"' in template.read_text()
    assert sorted(p.name for p in (tmp_path / "operations").iterdir()) == ["c8y", "certificate_renew.toml"]


def test_install_operation_refuses_sudo_with_a_config_dir_that_sudo_would_refuse(tmp_path):
    # under sudo `reconcile operation` refuses --config-dir: such a workflow would fail every time
    result = reconcile("install-operation", "--config-dir", str(tmp_path), "--reconcile-command", "sudo -n /opt/bin/reconcile")
    assert result.returncode == 3 and "through sudo reads /etc/tedge/reconcile.yaml" in result.stderr
    assert not (tmp_path / "operations").exists()


def test_install_operation_refuses_a_command_with_quotes(tmp_path):
    result = reconcile("install-operation", "--config-dir", str(tmp_path), "--reconcile-command", 'sh -c "x"')
    assert result.returncode == 3 and "--reconcile-command" in result.stderr
    assert not (tmp_path / "operations").exists()


def test_under_sudo_another_desired_state_is_refused(tmp_path, tenant):
    device = _device(tmp_path, tenant)
    result = reconcile("operation", "renew", "-f", str(device.state), env={"SUDO_USER": "tedge"})
    assert result.returncode == 3
    assert "under sudo -f and --config-dir are refused" in step_output(result.stdout)["reason"]
    assert not tenant.requests
