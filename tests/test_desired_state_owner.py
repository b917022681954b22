"""Run as root, a desired-state file must be root's and written by no one else: it names the files
root writes and the command root runs for activation, and thin-edge's /etc/tedge may be written by
the `tedge` user. `reconcile validate` only reads, and checks any file."""

from __future__ import annotations

import os

import pytest

from tests.device_files import converged_device, write_state
from tests.reconcile_cli import UNREACHABLE_TENANT, run


@pytest.fixture
def device(tmp_path):
    assert os.geteuid() == 0, "the suite runs as root (tests/run.sh)"
    converged_device(tmp_path)
    return tmp_path, write_state(tmp_path, **UNREACHABLE_TENANT)


@pytest.mark.parametrize("change, reason", [
    (lambda path: path.chmod(0o664), "may be written by its group or by others (mode 0664)"),
    (lambda path: path.chmod(0o646), "may be written by its group or by others (mode 0646)"),
    (lambda path: os.chown(path, 65534, 65534), "belongs to uid 65534, not to uid 0 that runs reconcile"),
])
def test_a_desired_state_another_user_could_write_is_refused(device, change, reason):
    folder, state = device
    change(state)
    where = ["-f", str(state), "--config-dir", str(folder)]
    for command in (where, [*where, "--dry-run"], ["status", *where]):
        result = run(*command)
        assert result.returncode == 3, (command, result.stderr)
        assert f"{state}: {reason}" in result.stderr


def test_root_runs_from_its_own_file_and_validate_reads_any(device):
    folder, state = device
    assert run("-f", str(state), "--config-dir", str(folder)).returncode == 0
    os.chown(state, 65534, 65534)
    validated = run("validate", str(state))
    assert validated.returncode == 0 and "valid" in validated.stdout


def test_a_link_to_a_root_file_is_followed(device):
    folder, state = device
    link = folder / "linked.yaml"
    link.symlink_to(state)
    assert run("-f", str(link), "--config-dir", str(folder)).returncode == 0
