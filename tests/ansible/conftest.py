"""Fixtures for the Ansible collection's tests: the collection built and installed from its tarball,
and its source importable as `ansible_collections.tedge_cert.c8y_ca` for the in-process unit tests."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.ansible.ansible_run import COLLECTION_SOURCE, ansible_env, ansible_tool


@pytest.fixture(scope="session")
def collection_tarball(tmp_path_factory):
    """`ansible-galaxy collection build` of ansible/, as a release would make it."""
    out = tmp_path_factory.mktemp("build")
    subprocess.run(
        [ansible_tool("ansible-galaxy"), "collection", "build", str(COLLECTION_SOURCE), "--output-path", str(out)],
        check=True, capture_output=True, text=True, env=ansible_env(out / "home"),
    )
    (tarball,) = out.glob("tedge_cert-c8y_ca-*.tar.gz")
    return tarball


@pytest.fixture(scope="session")
def installed_collections(tmp_path_factory, collection_tarball):
    """A collections path holding tedge_cert.c8y_ca installed from the tarball."""
    path = tmp_path_factory.mktemp("collections")
    subprocess.run(
        [ansible_tool("ansible-galaxy"), "collection", "install", str(collection_tarball), "-p", str(path)],
        check=True, capture_output=True, text=True, env=ansible_env(path / ".home"),
    )
    return path


@pytest.fixture(scope="session")
def collection_imports(tmp_path_factory):
    """The collection's source on sys.path under its Ansible name (a symlink), for in-process tests."""
    root = tmp_path_factory.mktemp("source")
    (root / "ansible_collections" / "tedge_cert").mkdir(parents=True)
    (root / "ansible_collections" / "tedge_cert" / "c8y_ca").symlink_to(COLLECTION_SOURCE, target_is_directory=True)
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))


@pytest.fixture(scope="session")
def device_wheel(tmp_path_factory):
    """The engine's wheel, as `pip wheel --no-deps .` builds it for devices (once per session)."""
    from tests.test_wheel_contents import ROOT, build_wheel

    return build_wheel(ROOT, tmp_path_factory.mktemp("wheel"))
