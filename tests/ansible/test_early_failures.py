"""The documentation matches the results where the modules fail early: through real `ansible-playbook`
runs, every result key of every module is documented in its RETURN, and every key documented as
`returned: always` is there. A host without the engine gives only Ansible's own keys (documented in
the collection's `attributes` fragment)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import yaml

from reconciler.basics.layout import lock_file
from reconciler.basics.lock import exclusive_lock
from tests.ansible.ansible_run import COLLECTION_SOURCE, run_playbook, write_inventory

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
OTP, ADMIN_PASSWORD = "early-failure-otp-0001", "early-failure-admin-password"
# What Ansible itself puts into a result, whatever the module.
ANSIBLE_KEYS = {"changed", "failed", "msg", "exception", "invocation", "warnings", "deprecations", "_ansible_no_log",
                "_ansible_verbose_always"}
MODULES = ("certificate", "certificate_info", "registration", "fleet_info")


def documented_returns(module: str) -> dict:
    """The module's RETURN, read from its source as ansible-doc reads it (no import)."""
    tree = ast.parse((COLLECTION_SOURCE / "plugins" / "modules" / f"{module}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == "RETURN":
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{module} has no RETURN")


def always_keys(returns: dict) -> set:
    return {name for name, doc in returns.items() if doc["returned"] == "always"}


def test_every_early_failure_returns_the_documented_keys(tmp_path, installed_collections):
    device_dir = tmp_path / "gw-0001"
    (device_dir / "device-certs").mkdir(parents=True)
    inventory = write_inventory(tmp_path / "inventory.yml", {"gw-0001": {"device_dir": str(device_dir)}},
                                one_time_password=OTP, admin_password=ADMIN_PASSWORD)
    # held by this process for the whole run: the task with lock_timeout 0 finds it taken
    with exclusive_lock(lock_file(device_dir / "device-certs" / "tedge-certificate.pem"), 1):
        run = run_playbook(PLAYBOOKS / "early_failures.yml", inventory, tmp_path / "ansible", installed_collections,
                           lambda: [OTP, ADMIN_PASSWORD])
    assert run.returncode == 0, run.output[-4000:]
    tasks = {record["task"]: record for record in run.records}
    assert len(tasks) == 9, sorted(tasks)
    seen_exits = set()
    for name, record in tasks.items():
        module = record["action"].rsplit(".", 1)[-1]
        returns, result = documented_returns(module), record["result"]
        assert record["outcome"] == "failed", name
        undocumented = set(result) - set(returns) - ANSIBLE_KEYS
        assert not undocumented, f"{name}: undocumented keys {sorted(undocumented)}"
        missing = always_keys(returns) - set(result)
        assert not missing, f"{name}: 'returned: always' keys missing: {sorted(missing)}"
        seen_exits.add((module, result["exit_name"]))
    assert {("certificate", "bad_input"), ("certificate", "locked"), ("certificate_info", "bad_input"),
            ("certificate_info", "error"), ("registration", "bad_input"), ("registration", "unreachable"),
            ("fleet_info", "bad_input"), ("fleet_info", "unreachable")} <= seen_exits


def test_without_the_engine_only_ansibles_own_keys(tmp_path, installed_collections):
    bare = tmp_path / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    inventory = write_inventory(tmp_path / "inventory.yml", {"gw-0001": {"ansible_python_interpreter": str(bare / "bin" / "python")}},
                                one_time_password=OTP, admin_password=ADMIN_PASSWORD)
    # A PYTHONPATH naming a source tree (as when testing a worktree) would hand the engine to the bare venv too.
    run = run_playbook(PLAYBOOKS / "missing_library.yml", inventory, tmp_path / "ansible", installed_collections,
                       lambda: [OTP, ADMIN_PASSWORD], env={"PYTHONPATH": ""})
    assert run.returncode == 0, run.output[-4000:]
    for module in MODULES:
        result = run.result(module, "gw-0001")
        assert set(result) - ANSIBLE_KEYS == set(), f"{module}: {sorted(set(result) - ANSIBLE_KEYS)}"
        assert "tedge-cert-reconciler" in result["msg"]
