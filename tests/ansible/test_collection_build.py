"""The collection builds with `ansible-galaxy collection build`, installs from its tarball, and its
installed modules document themselves (the playbook tests all use this installed copy)."""

from __future__ import annotations

import json
import subprocess
import tarfile

from tests.ansible.ansible_run import ansible_env, ansible_tool

MODULES = {"certificate", "registration", "certificate_info", "fleet_info"}


def test_the_tarball_holds_the_plugins_and_licences_and_nothing_generated(collection_tarball):
    with tarfile.open(collection_tarball) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    assert {f"plugins/modules/{m}.py" for m in MODULES} <= names
    assert {"LICENSES/Apache-2.0.txt", "LICENSES/GPL-3.0-or-later.txt", "README.md", "meta/runtime.yml"} <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/output")]
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"]) == ("tedge_cert", "c8y_ca") and info["dependencies"] == {}


def test_the_installed_modules_are_documented(tmp_path, installed_collections):
    env = ansible_env(tmp_path, ANSIBLE_COLLECTIONS_PATH=str(installed_collections))
    done = subprocess.run(
        [ansible_tool("ansible-doc"), "--json", *(f"tedge_cert.c8y_ca.{m}" for m in sorted(MODULES))],
        capture_output=True, text=True, env=env, check=True,
    )
    docs = json.loads(done.stdout)
    assert {name.rsplit(".", 1)[-1] for name in docs} == MODULES
    options = docs["tedge_cert.c8y_ca.certificate"]["doc"]["options"]
    assert options["enrollment"]["suboptions"]["one_time_password"]["type"] == "str"
    assert str(installed_collections) in docs["tedge_cert.c8y_ca.certificate"]["doc"]["filename"]
