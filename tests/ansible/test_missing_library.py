"""Each module on a host whose Python lacks the engine fails with Ansible's missing-library message,
naming the pip package (AnsiballZ ships only the collection's module_utils, never `reconciler`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.ansible.ansible_run import run_playbook, write_inventory

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
OTP, ADMIN_PASSWORD = "missing-lib-otp-0001", "missing-lib-admin-password"


def test_every_module_names_the_pip_package_when_the_engine_is_missing(tmp_path, installed_collections):
    bare = tmp_path / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = bare / "bin" / "python"
    assert subprocess.run([str(python), "-c", "import reconciler"], capture_output=True, cwd=bare).returncode != 0
    inventory = write_inventory(
        tmp_path / "inventory.yml",
        {"gw-0001": {"ansible_python_interpreter": str(python)}},
        one_time_password=OTP,
        admin_password=ADMIN_PASSWORD,
    )
    run = run_playbook(PLAYBOOKS / "missing_library.yml", inventory, tmp_path / "ansible", installed_collections,
                       lambda: [OTP, ADMIN_PASSWORD])
    assert run.returncode == 0, run.output[-4000:]  # every task ignores its error
    for module in ("certificate", "registration", "certificate_info"):
        assert run.outcome(module, "gw-0001") == "failed"
        message = run.result(module, "gw-0001")["msg"]
        assert message.startswith("Failed to import the required Python library (tedge-cert-reconciler)"), message
        assert "ansible_python_interpreter" in message
