"""Real keys and certificates on disk for tests, issued by a real (in-process) CA."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

from c8y_emulator.ca import CertificateAuthority
from reconciler.x509.facts import certificates_pem
from reconciler.x509.keys import generate_private_key, private_key_pem

_CA = None


def shared_ca() -> CertificateAuthority:
    global _CA
    if _CA is None:
        _CA = CertificateAuthority()
    return _CA


def device_name(device_id: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, device_id),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Thin Edge"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Device"),
        ]
    )


def write_key(path: Path, algorithm: str = "ec-p256"):
    key = generate_private_key(algorithm)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(private_key_pem(key))
    os.chmod(path, 0o600)
    return key


def write_cert(
    path: Path, key, device_id: str = "gw-0001", age: timedelta = timedelta(days=1), lifetime=timedelta(days=365), ca=None
) -> x509.Certificate:
    not_before = datetime.now(timezone.utc) - age
    cert = (ca or shared_ca()).issue(key.public_key(), device_name(device_id), not_before=not_before, lifetime=lifetime)
    path.write_bytes(certificates_pem([cert]))
    os.chmod(path, 0o644)
    return cert


def write_state(folder: Path, **sections) -> Path:
    data = {
        "device_id": "gw-0001",
        "tenant": {"url": "https://127.0.0.1:1"},
        "enrollment": {"one_time_password_file": "otp"},
        "activation": {"strategy": "none", "verify": "none"},
        "report": {"twin": "off"},  # no local broker here; test_twin.py publishes to a real one
        **sections,
    }
    path = folder / "state.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def certs_dir(config_dir: Path) -> Path:
    return config_dir / "device-certs"


def converged_device(config_dir: Path, **cert_options) -> tuple[Path, Path]:
    """Key and valid certificate at thin-edge's default paths under `config_dir`."""
    key_path = certs_dir(config_dir) / "tedge-private-key.pem"
    cert_path = certs_dir(config_dir) / "tedge-certificate.pem"
    key = write_key(key_path)
    write_cert(cert_path, key, **cert_options)
    return key_path, cert_path
