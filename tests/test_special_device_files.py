"""A device file that is a special file (a FIFO, /dev/null) blocks the run before anything is
created: no lock and no run history beside it, nothing anywhere in its directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.basics.layout import LOCK_NAME, lock_file, state_file
from tests.device_files import write_state
from tests.tenant_device import Device

ACTIVATION = {"strategy": "none", "verify": "none"}


def _tree(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


@pytest.mark.parametrize("role", ["cert", "key", "csr"])
def test_a_fifo_at_a_device_path_blocks_and_creates_nothing(tmp_path, role):
    certs = tmp_path / "device-certs"
    certs.mkdir()
    fifo = certs / f"{role}.fifo"
    os.mkfifo(fifo)
    state = write_state(tmp_path, tenant={"url": "https://tenant.example"}, paths={role: str(fifo)}, activation=ACTIVATION)
    before = _tree(tmp_path)

    result = Device(tmp_path, state).run(timeout=30)

    assert result.returncode == 4, result.stderr
    assert f"{fifo} is a FIFO" in result.stderr and "Traceback" not in result.stderr
    assert _tree(tmp_path) == before  # no lock, no run history, no key, no CSR
    assert not (certs / LOCK_NAME).exists()


def test_dev_null_as_the_certificate_in_tedge_toml_leaves_dev_untouched(tmp_path):
    """The issue's case, with the real /dev/null: nothing may appear in /dev."""
    created_in_dev = (lock_file(Path("/dev/null")), state_file(Path("/dev/null")))
    assert not any(path.exists() for path in created_in_dev), "left over from elsewhere: this test could not fail"
    (tmp_path / "device-certs").mkdir()
    (tmp_path / "tedge.toml").write_text('[device]\ncert_path = "/dev/null"\n[c8y]\nurl = "tenant.example"\n')
    state = write_state(tmp_path, activation=ACTIVATION)
    before = _tree(tmp_path)
    try:
        result = Device(tmp_path, state).run(timeout=30)
        leaked = [str(path) for path in created_in_dev if path.exists()]
    finally:
        for path in created_in_dev:  # a regression must not leave its lock in the real /dev
            path.unlink(missing_ok=True)

    assert result.returncode == 4, result.stderr
    assert "/dev/null is a character device" in result.stderr, result.stderr
    assert leaked == []
    assert _tree(tmp_path) == before


def test_a_regular_certificate_still_gets_its_lock(tmp_path):
    """The check stops only special files: an ordinary run still takes the lock beside the certificate."""
    (tmp_path / "device-certs").mkdir()
    state = write_state(tmp_path, tenant={"url": "https://tenant.example"}, activation=ACTIVATION)
    result = Device(tmp_path, state).run(timeout=30)
    assert result.returncode == 4, result.stderr  # no one-time password: blocked, after taking the lock
    assert (tmp_path / "device-certs" / LOCK_NAME).exists()
