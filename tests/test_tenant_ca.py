"""The tenant CA, end to end over real HTTPS: the administrator fetches it (`register --ca-out`), the
device checks issued certificates against it, a same-key CA renewal still verifies with the old
file, a new key is refused before anything goes live, and an unchecked chain is never silent."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from datetime import timedelta

from reconciler.x509.chain import fingerprint
from reconciler.x509.facts import load_certificates
from tests.conftest import RECONCILE
from tests.device_files import converged_device
from tests.tenant_device import OTP, make_device

NOT_VERIFIED = "the issued certificate's chain is not verified"


def _register(tenant, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("C8Y_")}
    env.update(C8Y_USER=tenant.admin_user, C8Y_PASSWORD=tenant.admin_password)  # no C8Y_TENANT: currentTenant says
    return subprocess.run([*RECONCILE, "register", "--tenant", tenant.url, "--ca-bundle", str(tenant.ca_bundle), *args],
                          capture_output=True, text=True, env=env, timeout=120)


def _fetched_ca(tmp_path, tenant):
    path = tmp_path / "fleet" / "c8y-tenant-ca.pem"
    result = _register(tenant, "--ca-out", str(path))
    assert result.returncode == 0, result.stderr
    return path


def _renewing_device(tmp_path, tenant, ca_file):
    converged_device(tmp_path, age=timedelta(days=340), ca=tenant.ca)  # issued by the tenant CA, due for renewal
    return make_device(tmp_path, tenant, tenant={"ca_certificate": str(ca_file)})


def test_register_ca_out_writes_the_ca_the_tenant_issues_with(tmp_path, tenant):
    path = tmp_path / "fleet" / "c8y-tenant-ca.pem"
    result = _register(tenant, "--ca-out", str(path), "--output", "json")
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == tenant.ca.certificate_pem
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert json.loads(result.stdout)["tenant_ca"]["fingerprints_sha256"] == [fingerprint(tenant.ca.certificate)]
    seen = [(r.method, r.path) for r in tenant.requests]
    assert seen == [("GET", "/tenant/currentTenant"), ("GET", f"/tenant/tenants/{tenant.tenant_id}/trusted-certificates")]
    assert not tenant.registry.get("gw-1")


def test_only_the_tenant_ca_is_written_when_the_tenant_lists_other_trusted_certificates_too(tmp_path, tenant):
    tenant.filters_trusted_certificates = False  # the manufacturer CA it also trusts comes along
    assert _fetched_ca(tmp_path, tenant).read_bytes() == tenant.ca.certificate_pem


def test_register_with_devices_writes_the_ca_before_registering(tmp_path, tenant):
    path = tmp_path / "ca.pem"
    result = _register(tenant, "--device", "gw-1", "--show-otp", "--ca-out", str(path))
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == tenant.ca.certificate_pem and tenant.registry.get("gw-1") is not None
    assert [r.path for r in tenant.requests][-1] == "/devicecontrol/bulkNewDeviceRequests"


def test_a_user_who_may_not_read_the_ca_is_told_which_role_and_nothing_is_registered(tmp_path, tenant):
    tenant.fault("status", path="trusted-certificates", status=403)
    path = tmp_path / "ca.pem"
    result = _register(tenant, "--device", "gw-1", "--show-otp", "--ca-out", str(path))
    assert result.returncode == 6
    assert "ROLE_TENANT_ADMIN" in result.stderr and "Traceback" not in result.stderr
    assert not path.exists() and not tenant.requests_to("bulkNewDeviceRequests")


def test_enrollment_checks_the_chain_against_the_fetched_ca_and_the_report_names_it(tmp_path, tenant):
    ca_file = _fetched_ca(tmp_path, tenant)
    tenant.register("gw-0001", OTP)
    device = make_device(tmp_path, tenant, tenant={"ca_certificate": str(ca_file)})
    result = device.run("--output", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["tenant_ca"] == {"verified": True, "source": str(ca_file),
                                   "fingerprints_sha256": [fingerprint(tenant.ca.certificate)], "message": None}
    assert report["warnings"] == [] and NOT_VERIFIED not in result.stderr
    assert not tenant.requests_to("cacerts"), "a configured CA is not asked for"


def test_a_same_key_ca_renewal_still_verifies_with_the_old_file(tmp_path, tenant):
    ca_file = _fetched_ca(tmp_path, tenant)
    device = _renewing_device(tmp_path, tenant, ca_file)
    old_ca = ca_file.read_bytes()
    tenant.renew_ca()  # a new CA certificate, the same key
    assert tenant.ca.certificate_pem != old_ca
    before = device.live()
    result = device.run("--output", "json")
    assert result.returncode == 0, result.stderr
    assert device.live()[1] != before[1]
    assert load_certificates(device.live()[1])[0] == tenant.issued[-1]  # issued after the renewal
    assert json.loads(result.stdout)["tenant_ca"]["fingerprints_sha256"] == [fingerprint(load_certificates(old_ca)[0])]
    assert ca_file.read_bytes() == old_ca


def test_a_ca_with_a_new_key_is_refused_before_anything_goes_live(tmp_path, tenant):
    ca_file = _fetched_ca(tmp_path, tenant)
    device = _renewing_device(tmp_path, tenant, ca_file)
    configured = fingerprint(load_certificates(ca_file.read_bytes())[0])
    tenant.renew_ca(new_key=True)
    before = device.live()
    result = device.run()
    assert result.returncode == 6, result.stderr
    assert device.live() == before and not device.candidate.exists()
    (message,) = [line for line in result.stderr.splitlines() if line.startswith("reconcile: error:")]
    assert "does not chain to the tenant CA" in message
    assert configured in message and fingerprint(tenant.issued[-1]) in message
    assert "replace tenant.ca_certificate" in message and str(ca_file) in message


def test_an_unverified_chain_is_said_once_and_shown_in_the_report(tmp_path, tenant):
    tenant.fault("status", path="cacerts", status=404)  # as a real tenant: no CA certificates to learn from
    tenant.register("gw-0001", OTP)
    device = make_device(tmp_path, tenant)
    result = device.run("--output", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["tenant_ca"]["verified"] is False and report["tenant_ca"]["source"] is None
    assert "tenant.ca_certificate is not set" in report["tenant_ca"]["message"] and "404" in report["tenant_ca"]["message"]
    assert [w for w in report["warnings"] if NOT_VERIFIED in w] == report["warnings"] and len(report["warnings"]) == 1
    assert len(tenant.requests_to("cacerts")) == 1


def test_an_unverified_chain_warns_once_in_text(tmp_path, tenant):
    converged_device(tmp_path, age=timedelta(days=340), ca=tenant.ca)
    tenant.fault("status", path="cacerts", status=404)
    device = make_device(tmp_path, tenant)
    result = device.run()
    assert result.returncode == 0, result.stderr
    assert (result.stdout + result.stderr).count(NOT_VERIFIED) == 1
    assert "(the chain is not verified)" in result.stderr, "the verify step does not claim a CA check it did not make"


def _status(device, *args):
    result = subprocess.run([*RECONCILE, "status", "-f", str(device.state), "--config-dir", str(device.config_dir), *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_status_names_the_trusted_ca_or_says_it_is_not_verified(tmp_path, tenant):
    ca_file = _fetched_ca(tmp_path, tenant)
    device = _renewing_device(tmp_path, tenant, ca_file)
    assert f"tenant CA:    {ca_file} (SHA-256 {fingerprint(tenant.ca.certificate)})" in _status(device).splitlines()
    document = json.loads(_status(device, "--output", "json"))
    assert document["tenant_ca"]["verified"] is True and document["tenant_ca"]["source"] == str(ca_file)

    bare = make_device(tmp_path, tenant)
    assert "tenant CA:    not verified: tenant.ca_certificate is not set" in _status(bare)
    assert json.loads(_status(bare, "--output", "json"))["tenant_ca"]["verified"] is False
    assert not tenant.requests_to("cacerts"), "status contacts nothing"
