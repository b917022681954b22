"""Each module on a host whose Python lacks the engine, or has one of a version this collection was not
made for, fails with Ansible's missing-library wording, naming the pip requirement (AnsiballZ ships only
the collection's module_utils, never `reconciler`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler import __version__ as ENGINE_VERSION
from tests.ansible.ansible_run import COLLECTION_SOURCE, run_playbook, write_inventory

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
OTP, ADMIN_PASSWORD = "missing-lib-otp-0001", "missing-lib-admin-password"
MODULES = ("certificate", "registration", "certificate_info", "fleet_info")


def bare_python(tmp_path: Path, engine_version: str | None = None) -> Path:
    """A venv without the engine; with `engine_version`, a stand-in `reconciler` that reports it."""
    bare = tmp_path / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = bare / "bin" / "python"
    if engine_version is not None:
        (site,) = bare.glob("lib/python*/site-packages")
        (site / "reconciler").mkdir()
        (site / "reconciler" / "__init__.py").write_text(f"__version__ = {engine_version!r}\n")
    return python


def run_on(tmp_path, python, collections):
    inventory = write_inventory(
        tmp_path / "inventory.yml",
        {"gw-0001": {"ansible_python_interpreter": str(python)}},
        one_time_password=OTP,
        admin_password=ADMIN_PASSWORD,
    )
    run = run_playbook(PLAYBOOKS / "missing_library.yml", inventory, tmp_path / "ansible", collections,
                       lambda: [OTP, ADMIN_PASSWORD])
    assert run.returncode == 0, run.output[-4000:]  # every task ignores its error
    for module in MODULES:
        assert run.outcome(module, "gw-0001") == "failed"
    return {module: run.result(module, "gw-0001")["msg"] for module in MODULES}


def test_every_module_names_the_pip_package_when_the_engine_is_missing(tmp_path, installed_collections):
    python = bare_python(tmp_path)
    assert subprocess.run([str(python), "-c", "import reconciler"], capture_output=True, cwd=tmp_path).returncode != 0
    for message in run_on(tmp_path, python, installed_collections).values():
        assert message.startswith(
            "Failed to import the required Python library (tedge-cert-reconciler>=0.1.0,<0.2.0)"), message
        assert "ansible_python_interpreter" in message


@pytest.mark.parametrize("reported", ["0.9.0", "0.0.9", "not-a-version"])
def test_every_module_refuses_an_engine_of_another_version(tmp_path, installed_collections, reported):
    python = bare_python(tmp_path, reported)
    for message in run_on(tmp_path, python, installed_collections).values():
        assert message.startswith(
            f"The required Python library tedge-cert-reconciler>=0.1.0,<0.2.0 on "), message
        assert f"'s Python {python} does not fit this collection" in message
        assert (reported in message) and "ansible_python_interpreter" in message and "Traceback" not in message


def test_the_range_holds_this_engine_and_requirements_txt_names_it():
    """A version bump of the engine without the collection's range (or the other way round) fails here."""
    library = (COLLECTION_SOURCE / "plugins" / "module_utils" / "_library.py").read_text()
    low, high = re.search(r'ENGINE_VERSIONS = \("([\d.]+)", "([\d.]+)"\)', library).groups()
    as_tuple = lambda v: tuple(int(p) for p in v.split("."))  # noqa: E731
    assert as_tuple(low) <= as_tuple(ENGINE_VERSION) < as_tuple(high)
    requirements = (COLLECTION_SOURCE / "requirements.txt").read_text()
    assert f"tedge-cert-reconciler>={low},<{high}" in requirements.splitlines()
