"""The `reconcile` command end to end, as a separate process."""

from __future__ import annotations

import fcntl
import json
import os
from datetime import timedelta
from pathlib import Path

from reconciler.basics.layout import lock_file
from reconciler.x509.facts import load_private_key
from tests.device_files import converged_device, write_cert, write_state
from tests.reconcile_cli import run
from tests.tenant_device import make_device


def _files(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_dry_run_on_an_empty_device_plans_key_csr_enroll_activate(device_dir):
    state = write_state(device_dir, activation={"strategy": "tedge"})
    (device_dir / "otp").write_text("pass-1234\n")
    env = _fake_tedge(device_dir, "exit 0\n")
    before = _files(device_dir)
    result = run("-f", str(state), "--config-dir", str(device_dir), "--dry-run", "--output", "json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    kinds = [a["action"] for a in report["actions"]]
    assert kinds == ["generate_key", "write_csr", "enroll", "verify_candidate", "stage", "promote", "activate"]
    assert {a["reason"] for a in report["actions"]} == {"KeyMissing"}
    assert all(a["status"] == "planned" and a["message"] for a in report["actions"])
    assert report["status"] == "pending" and report["dry_run"] is True
    assert _files(device_dir) == before
    assert not (device_dir / "device-certs" / ".reconcile.lock").exists()


def test_without_tedge_installed_the_tedge_strategy_is_blocked_before_enrolling(device_dir):
    state = write_state(device_dir, activation={"strategy": "tedge"})
    (device_dir / "otp").write_text("pass-1234\n")
    result = run("-f", str(state), "--config-dir", str(device_dir), "--output", "json", env={"PATH": "/nonexistent"})
    report = json.loads(result.stdout)
    assert result.returncode == 4 and report["status"] == "blocked"
    assert [b["reason"] for b in report["blockers"]] == ["DependencyMissing"]
    assert "`tedge reconnect c8y` needs tedge" in report["blockers"][0]["message"]
    assert not (device_dir / "device-certs" / "tedge-private-key.pem").exists()


def test_dry_run_text_reads_like_a_plan(device_dir):
    state = write_state(device_dir)
    (device_dir / "otp").write_text("pass-1234\n")
    result = run("-f", str(state), "--config-dir", str(device_dir), "--dry-run")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Plan for gw-0001 (6 actions, dry run")
    assert lines[1].strip().startswith("[KeyMissing] Generating a ec-p256 key at") and "as the key does not exist" in lines[1]
    assert "1. generate_key" in lines[2] and "[KeyMissing]" in lines[2]


def test_detailed_exitcode_reports_pending_changes_with_2(device_dir):
    state = write_state(device_dir)
    (device_dir / "otp").write_text("pass-1234\n")
    assert run("-f", str(state), "--config-dir", str(device_dir), "--dry-run", "--detailed-exitcode").returncode == 2


def test_converged_device_plans_nothing_and_exits_0(device_dir):
    converged_device(device_dir)
    state = write_state(device_dir)
    for extra in ((), ("--dry-run",), ("--detailed-exitcode",)):
        result = run("-f", str(state), "--config-dir", str(device_dir), *extra)
        assert result.returncode == 0, result.stderr
        assert "converged; certificate serial" in result.stdout


def test_permission_fix_is_a_change_for_detailed_exitcode_then_converged(device_dir):
    key_path, _ = converged_device(device_dir)
    os.chmod(key_path, 0o640)
    state = write_state(device_dir)
    args = ("-f", str(state), "--config-dir", str(device_dir), "--detailed-exitcode")
    first = run(*args)
    assert first.returncode == 2, first.stderr
    assert "[ok] fix_permissions [PermissionsDrift]" in first.stderr
    assert run(*args).returncode == 0


def test_json_report_has_before_and_after_facts_and_no_secret(device_dir):
    key_path, _ = converged_device(device_dir)
    os.chmod(key_path, 0o640)
    state = write_state(device_dir)
    result = run("-f", str(state), "--config-dir", str(device_dir), "--output", "json")
    report = json.loads(result.stdout)
    assert set(report) == {"format", "device_id", "dry_run", "status", "changed", "reasons", "message", "actions", "notes", "warnings", "backoff",
                           "blockers", "before", "after", "error", "tenant_ca"}
    assert report["before"]["key"]["mode"] == "0640" and report["after"]["key"]["mode"] == "0600"
    assert report["after"]["certificate"]["subject_cn"] == "gw-0001"
    assert "PRIVATE KEY" not in result.stdout + result.stderr


def test_json_report_of_an_enrollment_holds_no_one_time_password(tmp_path, tenant):
    # The password is read and sent on this path (the tenant accepted it), and still never shown.
    secret = "s3cret-one-time-pass"
    tenant.register("gw-0001", secret)
    device = make_device(tmp_path, tenant, otp=secret)
    result = device.run("-v", "--output", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "changed" and len(tenant.requests_to("simpleenroll")) == 1
    assert "s3cret" not in result.stdout + result.stderr
    assert "PRIVATE KEY" not in result.stdout + result.stderr


def test_corrupt_key_blocks_with_exit_4_and_names_the_file(device_dir):
    key_path, cert_path = converged_device(device_dir)
    key_path.write_text("not a key")
    before = _files(device_dir)
    result = run("-f", str(write_state(device_dir)), "--config-dir", str(device_dir))
    assert result.returncode == 4
    assert f"Blocked [KeyUnreadable]: The key {key_path} cannot be used" in result.stdout
    assert "Traceback" not in result.stderr
    assert {p: b for p, b in _files(device_dir).items() if p.suffix == ".pem"} == {p: b for p, b in before.items() if p.suffix == ".pem"}


def test_missing_one_time_password_blocks_with_exit_4(device_dir):
    result = run("-f", str(write_state(device_dir)), "--config-dir", str(device_dir))
    assert result.returncode == 4
    assert "Blocked [OneTimePasswordMissing]" in result.stdout
    assert not (device_dir / "device-certs" / "tedge-private-key.pem").exists()


def test_locked_run_exits_5(device_dir):
    converged_device(device_dir)
    state = write_state(device_dir)
    path = lock_file(device_dir / "device-certs" / "tedge-certificate.pem")
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = run("-f", str(state), "--config-dir", str(device_dir), "--lock-timeout", "0.3")
    assert result.returncode == 5
    assert "another reconcile holds the lock" in result.stderr


def _fake_tedge(folder: Path, script: str) -> dict:
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    tedge = bin_dir / "tedge"
    tedge.write_text("#!/bin/sh\n" + script)
    tedge.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


def test_tedge_strategy_lets_tedge_promote_the_pending_candidate(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=10))
    write_cert(Path(f"{cert_path}.new"), load_private_key(key_path.read_bytes()))
    new = Path(f"{cert_path}.new").read_bytes()
    env = _fake_tedge(device_dir, f'[ "$*" = "reconnect c8y" ] && mv "{cert_path}.new" "{cert_path}"\n')
    state = write_state(device_dir, activation={"strategy": "tedge", "verify": "mqtt"})
    result = run("-f", str(state), "--config-dir", str(device_dir), "--output", "json", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [a["action"] for a in json.loads(result.stdout)["actions"]] == ["verify_candidate", "stage", "backup", "activate"]
    assert cert_path.read_bytes() == new


def test_tedge_keeping_the_old_certificate_is_a_failure_with_the_live_pair_intact(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=10))
    write_cert(Path(f"{cert_path}.new"), load_private_key(key_path.read_bytes()))
    live = cert_path.read_bytes()
    env = _fake_tedge(device_dir, "echo 'connection check failed' >&2; exit 3\n")
    state = write_state(device_dir, activation={"strategy": "tedge"})
    result = run("-f", str(state), "--config-dir", str(device_dir), env=env)
    assert result.returncode == 1
    assert "kept the current certificate (exit 3)" in result.stderr
    assert "connection check failed" in result.stderr
    assert cert_path.read_bytes() == live


def test_missing_activation_command_blocks_before_anything_is_swapped(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=10))
    write_cert(Path(f"{cert_path}.new"), load_private_key(key_path.read_bytes()))
    live = cert_path.read_bytes()
    state = write_state(device_dir, activation={"strategy": "command", "command": ["no-such-tool-xyz"], "verify": "none"})
    result = run("-f", str(state), "--config-dir", str(device_dir))
    assert result.returncode == 4
    assert "no-such-tool-xyz, which is not installed or not on PATH" in result.stdout
    assert "Traceback" not in result.stderr
    assert cert_path.read_bytes() == live and Path(f"{cert_path}.new").exists()


def test_show_describes_the_certificate(device_dir):
    _, cert_path = converged_device(device_dir, age=timedelta(days=340))
    text = run("show", "--cert", str(cert_path), "--config-dir", str(device_dir))
    assert text.returncode == 0, text.stderr
    assert "subject:      OU=Device,O=Thin Edge,CN=gw-0001" in text.stdout
    assert "issuer:       CN=management,O=Cumulocity,C=United States" in text.stdout
    assert "due now: yes" in text.stdout
    data = json.loads(run("show", "--cert", str(cert_path), "--output", "json", "--config-dir", str(device_dir)).stdout)
    assert data["renewal_due"] is True and 24 < data["days_left"] < 26
    assert len(data["fingerprint_sha256"]) == 64


def test_show_defaults_to_the_tedge_certificate_path(device_dir):
    converged_device(device_dir)
    result = run("show", "--config-dir", str(device_dir))
    assert result.returncode == 0 and "due now: no" in result.stdout


def test_show_of_a_missing_or_corrupt_certificate_exits_1(device_dir):
    assert run("show", "--cert", str(device_dir / "nope.pem")).returncode == 1
    bad = device_dir / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    result = run("show", "--cert", str(bad))
    assert result.returncode == 1 and "not a certificate (a PEM certificate in it is malformed)" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_documents_exit_codes():
    result = run("--help")
    assert result.returncode == 0
    for line in ("0  converged", "3  bad input", "4  blocked", "5  locked"):
        assert line in result.stdout


def test_needs_renewal_follows_thin_edge_exit_codes(device_dir):
    _, cert_path = converged_device(device_dir, age=timedelta(days=10))
    assert run("show", "--needs-renewal", "--config-dir", str(device_dir)).returncode == 1
    converged_device(device_dir, age=timedelta(days=340))
    due = run("show", "--needs-renewal", "--config-dir", str(device_dir))
    assert due.returncode == 0 and due.stdout == ""
    cert_path.write_text("broken")
    assert run("show", "--needs-renewal", "--config-dir", str(device_dir)).returncode == 2


def test_a_key_of_another_type_is_named_and_rotated(device_dir):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    (device_dir / "device-certs" / "tedge-private-key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (device_dir / "otp").write_text("pass-1234\n")
    result = run("-f", str(write_state(device_dir)), "--config-dir", str(device_dir), "--dry-run")
    assert result.returncode == 0
    assert "[KeyAlgorithmMismatch] Rotating to a new ec-p256 key, as the key" in result.stdout
    assert "is ed25519." in result.stdout


def test_version():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("reconcile 0.")


def test_validate_checks_files_without_touching_the_device(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("device_id: gw-1\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("device_id: gw-1\nkey: {algorithm: dsa}\n")
    assert run("validate", str(good)).stdout == f"{good}: valid\n"
    result = run("validate", str(good), str(bad))
    assert result.returncode == 3
    assert f"reconcile: error: {bad}:2: key.algorithm: must be" in result.stderr


def test_json_output_reports_early_failures_as_a_document(device_dir):
    state = device_dir / "state.yaml"
    state.write_text("device_id: gw-1\nkey: {algorithm: dsa}\n")
    result = run("-f", str(state), "--config-dir", str(device_dir), "--output", "json")
    assert result.returncode == 3
    document = json.loads(result.stdout)
    assert document["status"] == "failed" and document["error"]["exit_code"] == 3
    assert "key.algorithm" in document["error"]["message"]


def test_the_activation_command_does_not_inherit_the_one_time_password(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=10))
    write_cert(Path(f"{cert_path}.new"), load_private_key(key_path.read_bytes()))
    seen = device_dir / "activation-env"
    state = write_state(device_dir, enrollment={"one_time_password_env": "DEVICE_OTP"},
                        activation={"strategy": "command", "command": ["sh", "-c", f"env > {seen}"], "verify": "none"})
    result = run("-f", str(state), "--config-dir", str(device_dir), env={"DEVICE_OTP": "s3cret-pass-0001"})
    assert result.returncode == 0, result.stderr
    assert "s3cret-pass-0001" not in seen.read_text() and "PATH=" in seen.read_text()


def test_a_tenant_url_with_a_password_in_it_is_refused_without_echoing_it(device_dir):
    state = write_state(device_dir, tenant={"url": "https://admin:hunter2@example.cumulocity.com"})
    result = run("validate", str(state))
    assert result.returncode == 3 and "must not carry a user or password" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr
