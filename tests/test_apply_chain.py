"""Apply judges the issued certificate's chain with the real check, against a real CA: a certificate
from another key never goes live, one from the trusted key does, and the report says which CA."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from c8y_emulator.ca import CertificateAuthority
from reconciler.desired.load import load_desired_state
from reconciler.desired.resolve import resolve
from reconciler.desired.tedge_toml import load_tedge_config
from reconciler.planning.backends import Backends
from reconciler.runs.engine import reconcile
from reconciler.runs.report import report_dict
from reconciler.x509.chain import fingerprint
from tests.device_files import converged_device, shared_ca, write_state
from tests.local_authority import LocalAuthority


def _spec(config_dir: Path, **sections):
    path = write_state(config_dir, **sections)
    (config_dir / "otp").write_text("one-time-pass-123\n")
    return resolve(load_desired_state(path), load_tedge_config(config_dir), config_dir)


def _run(spec, authority):
    return reconcile(spec, dry_run=False, backends=Backends(authority=authority), lock_timeout=2)


def test_a_certificate_from_another_ca_key_is_refused_and_the_live_pair_kept(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=340))
    before = key_path.read_bytes(), cert_path.read_bytes()
    impostor = CertificateAuthority()  # same name as the tenant's CA, another key
    report = _run(_spec(device_dir), LocalAuthority(ca=impostor, offers=shared_ca()))
    assert report.failed is not None and report.exit_code() == 6
    assert "does not chain to the tenant CA" in report.failed.message
    assert fingerprint(shared_ca().certificate) in report.failed.message
    assert (key_path.read_bytes(), cert_path.read_bytes()) == before
    assert not Path(f"{cert_path}.new").exists(), "the refused answer is set aside, not left staged"


def test_a_certificate_from_the_configured_ca_goes_live_and_the_report_names_the_ca(device_dir):
    ca_file = device_dir / "tenant-ca.pem"
    ca_file.write_bytes(shared_ca().certificate_pem)
    converged_device(device_dir, age=timedelta(days=340))
    report = _run(_spec(device_dir, tenant={"url": "https://127.0.0.1:1", "ca_certificate": str(ca_file)}), LocalAuthority())
    assert report.failed is None and report.changed
    assert report_dict(report)["tenant_ca"] == {"verified": True, "source": str(ca_file),
                                               "fingerprints_sha256": [fingerprint(shared_ca().certificate)], "message": None}
    assert report.warnings == []


def test_the_configured_ca_wins_over_what_the_tenant_offers(device_dir):
    ca_file = device_dir / "tenant-ca.pem"
    ca_file.write_bytes(CertificateAuthority().certificate_pem)  # not the CA that signs
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=340))
    before = key_path.read_bytes(), cert_path.read_bytes()
    spec = _spec(device_dir, tenant={"url": "https://127.0.0.1:1", "ca_certificate": str(ca_file)})
    report = _run(spec, LocalAuthority())  # offers the CA that signs: not asked, as a file is configured
    assert report.exit_code() == 6 and f"tenant.ca_certificate {ca_file}" in report.failed.message
    assert (key_path.read_bytes(), cert_path.read_bytes()) == before
