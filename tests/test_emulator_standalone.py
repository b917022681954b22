"""`python -m c8y_emulator` and the README's demo, as separate processes."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import requests

from reconciler.x509.facts import certificate_info, load_certificates
from tests.conftest import ROOT


def test_standalone_emulator_prints_where_it_is_and_keeps_the_password_in_a_private_file(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "c8y_emulator", "--dir", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(process.stdout.readline())
        feature = requests.get(info["url"] + "/features/certificate-authority", verify=info["ca_bundle"], timeout=10)
        assert feature.json()["active"] is True
        admin_env = tmp_path / "admin.env"
        assert stat.S_IMODE(admin_env.stat().st_mode) == 0o600
        password = dict(line.split("=", 1) for line in admin_env.read_text().split())["C8Y_PASSWORD"]
        assert password not in json.dumps(info)
        _assert_the_printed_tenant_ca_is_the_one_the_tenant_serves(info, tmp_path)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert password not in out + err


def _assert_the_printed_tenant_ca_is_the_one_the_tenant_serves(info: dict, folder) -> None:
    """The file named in the output is in --dir, holds the tenant CA's certificate (Cumulocity's name)
    and is the very CA the tenant's EST endpoint hands out."""
    path = Path(info["tenant_ca"])
    assert path.parent == folder, path
    (written,) = load_certificates(path.read_bytes())
    assert certificate_info(written).subject == "CN=management,O=Cumulocity,C=United States"
    served = requests.get(info["url"] + "/.well-known/est/cacerts", verify=info["ca_bundle"], timeout=10)
    assert served.status_code == 200, served.status_code
    assert load_certificates(served.content)[0] == written


def test_the_readme_demo_runs_end_to_end():
    env = {k: v for k, v in os.environ.items() if k != "TEDGE_CONFIG_DIR"}
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "demo.py")], capture_output=True, text=True,
                            timeout=180, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    out = result.stdout
    assert "[KeyMissing]" in out and "[RenewalDue]" in out
    assert "converged" in out
    assert "key kept: True" in out
    assert "backup: tedge/device-certs/backup/backup-" in out
