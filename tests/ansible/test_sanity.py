"""`ansible-test sanity` on the collection, offline, with no ignore file.

ansible-test wants the collection at .../ansible_collections/<namespace>/<name> (a copy here) and
bootstraps pip in its virtual environments with a script it downloads from a host this machine cannot
reach, unless a cached copy exists: the stand-in in this folder is put there (never over a real one).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.ansible.ansible_run import COLLECTION_SOURCE, ansible_tool

# The tests the collection must pass; ansible-test runs more, and all must pass.
REQUIRED = ("validate-modules", "import", "pylint", "pep8", "yamllint", "ansible-doc", "compile")
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def cache_pip_bootstrap() -> None:
    from ansible_test._internal.python_requirements import get_venv_packages

    version = get_venv_packages(SimpleNamespace(version=PYTHON))["pip"]
    cached = Path.home() / ".ansible" / "test" / "cache" / f"get_pip_{version.replace('.', '_')}.py"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(__file__).with_name("get_pip_standin.py"), cached)


@pytest.mark.timeout(900)  # the first run builds one virtual environment per sanity tool
def test_sanity_passes_without_an_ignore_file(tmp_path):
    assert not list(COLLECTION_SOURCE.glob("tests/sanity/ignore*.txt")), "no ignore file"
    cache_pip_bootstrap()
    collection = tmp_path / "ansible_collections" / "tedge_cert" / "c8y_ca"
    shutil.copytree(COLLECTION_SOURCE, collection, ignore=shutil.ignore_patterns("output", "__pycache__"))
    done = subprocess.run(
        [ansible_tool("ansible-test"), "sanity", "--local", "--python", PYTHON, "--color", "no"],
        cwd=collection, capture_output=True, text=True, timeout=840,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    for test in REQUIRED:
        assert f'Running sanity test "{test}"' in output, f"sanity test {test} did not run"
