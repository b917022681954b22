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


def test_the_readme_links_only_to_what_the_tarball_holds(collection_tarball):
    """The README is the collection's documentation on Galaxy and in an installed copy: a relative
    link to a file outside the collection (the project's examples, say) would lead nowhere."""
    import re

    with tarfile.open(collection_tarball) as tar:
        names = set(tar.getnames())
        readme = tar.extractfile("README.md").read().decode()
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)
    relative = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    assert [t for t in relative if t.rstrip("/") not in names] == []


def test_the_tarball_holds_the_role_the_changelog_and_the_ee_files(collection_tarball):
    with tarfile.open(collection_tarball) as tar:
        names = set(tar.getnames())
        galaxy = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
    assert {"roles/device/tasks/main.yml", "roles/device/meta/argument_specs.yml",
            "roles/device/templates/tedge-cert-reconcile.service.j2", "CHANGELOG.md", "changelogs/changelog.yaml",
            "meta/execution-environment.yml", "requirements.txt"} <= names
    addresses = [galaxy[key] for key in ("repository", "documentation", "issues", "homepage") if galaxy.get(key)]
    assert not [url for url in addresses if ".invalid" in url or not url.startswith("https://")], addresses


def test_the_role_documents_itself_and_every_default(tmp_path, installed_collections):
    """`ansible-doc -t role` renders the role's argument specs, and main's options are exactly the
    variables of defaults/main.yml, so that no variable is undocumented or documented but gone."""
    import yaml

    from tests.ansible.ansible_run import COLLECTION_SOURCE

    env = ansible_env(tmp_path, ANSIBLE_COLLECTIONS_PATH=str(installed_collections))
    text = subprocess.run([ansible_tool("ansible-doc"), "-t", "role", "tedge_cert.c8y_ca.device"],
                          capture_output=True, text=True, env=env)
    assert text.returncode == 0 and "ENTRY POINT" in text.stdout, text.stdout + text.stderr
    done = subprocess.run([ansible_tool("ansible-doc"), "-t", "role", "--json", "tedge_cert.c8y_ca.device"],
                          capture_output=True, text=True, env=env, check=True)
    entry_points = json.loads(done.stdout)["tedge_cert.c8y_ca.device"]["entry_points"]
    assert set(entry_points) == {"main", "plan", "engine"}
    defaults = yaml.safe_load((COLLECTION_SOURCE / "roles" / "device" / "defaults" / "main.yml").read_text())
    assert set(entry_points["main"]["options"]) == set(defaults)
