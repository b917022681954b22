"""`reconcile --renew-now [--rotate-key]`: an explicit renewal of a certificate that is not due, against the emulator."""

from __future__ import annotations

import json
from datetime import timedelta

from reconciler.basics.layout import list_backups, state_file
from reconciler.device.backup import CERT_FILE, KEY_FILE
from reconciler.runs.history_file import read_history
from reconciler.x509.facts import certificate_info, load_certificates
from tests.device_files import converged_device
from tests.reconcile_cli import run as reconcile
from tests.tenant_device import make_device


def _converged(tmp_path, tenant, **sections):
    """A device holding a fresh certificate from the tenant's CA: nothing is due."""
    converged_device(tmp_path, age=timedelta(days=1), ca=tenant.ca)
    device = make_device(tmp_path, tenant, **sections)
    first = device.run("--output", "json")
    assert first.returncode == 0 and json.loads(first.stdout)["status"] == "converged", first.stderr
    return device


def _serial(cert: bytes) -> str:
    return certificate_info(load_certificates(cert)[0]).serial


def _backups(device):
    return list_backups(device.config_dir / "device-certs" / "backup")


def test_dry_run_shows_renewal_requested_and_sends_nothing(tmp_path, tenant):
    device = _converged(tmp_path, tenant)
    before = device.live()
    result = device.run("--renew-now", "--dry-run", "--output", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "pending" and report["reasons"] == ["RenewalRequested"]
    assert [a["action"] for a in report["actions"]][:2] == ["write_csr", "reenroll"]
    assert device.live() == before and not tenant.requests_to("simplereenroll")


def test_renew_now_reenrolls_once_keeps_the_key_and_backs_up(tmp_path, tenant):
    device = _converged(tmp_path, tenant)
    before = device.live()
    result = device.run("--renew-now", "--output", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "changed" and report["reasons"] == ["RenewalRequested"]
    assert len(tenant.requests_to("simplereenroll")) == 1 and not tenant.requests_to("simpleenroll")
    key, cert = device.live()
    assert key == before[0], "the key is kept"
    assert _serial(cert) != _serial(before[1])
    (backup,) = _backups(device)
    assert (backup / CERT_FILE).read_bytes() == before[1]
    history = read_history(state_file(device.cert))
    assert history.last_request.status == "completed" and history.last_request.rotate_key is False


def test_renew_now_with_rotate_key_has_a_new_key_and_backs_up_the_old(tmp_path, tenant):
    device = _converged(tmp_path, tenant)
    before = device.live()
    result = device.run("--renew-now", "--rotate-key")
    assert result.returncode == 0, result.stderr
    assert len(tenant.requests_to("simplereenroll")) == 1
    key, cert = device.live()
    assert key != before[0] and cert != before[1]
    (backup,) = _backups(device)
    assert (backup / KEY_FILE).read_bytes() == before[0] and (backup / CERT_FILE).read_bytes() == before[1]
    assert read_history(state_file(device.cert)).last_request.rotate_key is True


def test_a_new_key_is_not_answered_by_a_certificate_staged_for_the_old_one(tmp_path, tenant):
    device = _converged(tmp_path, tenant)
    staging = reconcile("operation", "renew", "-f", str(device.state), "--config-dir", str(device.config_dir))
    assert staging.returncode == 0, staging.stdout  # staged, as by an operation whose activate step never ran
    staged = device.candidate.read_bytes()
    before = device.live()
    result = device.run("--renew-now", "--rotate-key", "--output", "json")
    assert result.returncode == 0, result.stderr
    assert "CandidateInvalid" in json.loads(result.stdout)["reasons"]
    assert len(tenant.requests_to("simplereenroll")) == 2  # the staging, then the rotation
    key, cert = device.live()
    assert key != before[0] and cert != staged
    kept = [path.read_bytes() for path in device.cert.parent.joinpath("backup").rglob("*") if path.is_file()]
    assert staged in kept  # set aside, not lost: it was paid for


def test_rotate_on_renewal_in_the_desired_state_rotates_an_explicit_renewal(tmp_path, tenant):
    device = _converged(tmp_path, tenant, key={"rotate_on_renewal": True})
    before = device.live()
    assert device.run("--renew-now").returncode == 0
    assert device.live()[0] != before[0]


def test_a_second_request_in_the_same_minute_renews_again_then_a_normal_run_is_converged(tmp_path, tenant):
    device = _converged(tmp_path, tenant)
    serials = [_serial(device.live()[1])]
    for _ in range(2):
        result = device.run("--renew-now")
        assert result.returncode == 0, result.stderr
        serials.append(_serial(device.live()[1]))
    assert len(set(serials)) == 3, "each explicit request renews"
    assert len(tenant.requests_to("simplereenroll")) == 2
    normal = device.run("--output", "json")
    assert normal.returncode == 0 and json.loads(normal.stdout)["status"] == "converged"
    assert len(tenant.requests_to("simplereenroll")) == 2, "the timer's run does not repeat the request"
    assert read_history(state_file(device.cert)).last_request.status == "completed"
    shown = reconcile("status", "-f", str(device.state), "--config-dir", str(device.config_dir))
    assert "last request: " in shown.stdout and "renew now: completed" in shown.stdout, shown.stdout


def test_a_failed_request_is_remembered_as_failed_and_not_retried(tmp_path, tenant):
    device = _converged(tmp_path, tenant)
    before = device.live()
    tenant.refuse_tokens = True
    result = device.run("--renew-now")
    assert result.returncode == 6
    assert device.live() == before
    assert read_history(state_file(device.cert)).last_request.status == "failed"
    tenant.refuse_tokens = False
    asked = len(tenant.requests)
    normal = device.run("--output", "json")
    assert normal.returncode == 0 and json.loads(normal.stdout)["status"] == "converged"
    assert len(tenant.requests) == asked, "a failed request is not re-run by the next normal run"


def test_rotate_key_without_renew_now_is_bad_input(tmp_path, tenant):
    device = _converged(tmp_path, tenant)
    result = device.run("--rotate-key")
    assert result.returncode == 3
    assert "--rotate-key needs --renew-now" in result.stderr
