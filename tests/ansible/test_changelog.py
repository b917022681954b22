"""The collection's changelog: a fragment per change in changelogs/fragments/, every fragment in a
release of changelogs/changelog.yaml, and CHANGELOG.md exactly what antsibull-changelog generates."""

from __future__ import annotations

import shutil
import subprocess

import yaml

from tests.ansible.ansible_run import COLLECTION_SOURCE, ansible_env, ansible_tool

CHANGELOGS = COLLECTION_SOURCE / "changelogs"
RELEASE = ("antsibull-changelog release --version <galaxy.yml's version> --update-existing --reload-plugins "
           "--refresh-plugins --refresh-fragments (in ansible/)")


def changelog(*args: str, cwd) -> subprocess.CompletedProcess:
    env = ansible_env(cwd / ".home")
    env["PATH"] = f"{shutil.os.path.dirname(ansible_tool('ansible-doc'))}:{env['PATH']}"
    return subprocess.run([ansible_tool("antsibull-changelog"), *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=300)


def test_the_fragments_lint_clean():
    done = changelog("lint", cwd=COLLECTION_SOURCE)
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr


def test_every_fragment_is_in_a_release():
    releases = yaml.safe_load((CHANGELOGS / "changelog.yaml").read_text())["releases"]
    released = {name for release in releases.values() for name in release.get("fragments", [])}
    fragments = {path.name for path in (CHANGELOGS / "fragments").glob("*.yml")}
    assert fragments, "a fragment per change"
    assert fragments <= released, f"fragments not in changelog.yaml {sorted(fragments - released)}: run {RELEASE}"


def test_changelog_md_is_generated(tmp_path):
    copy = tmp_path / "c8y_ca"
    shutil.copytree(COLLECTION_SOURCE, copy, ignore=shutil.ignore_patterns("output", "__pycache__", ".plugin-cache.yaml"))
    (copy / "CHANGELOG.md").unlink()
    done = changelog("generate", cwd=copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (copy / "CHANGELOG.md").read_text() == (COLLECTION_SOURCE / "CHANGELOG.md").read_text(), (
        f"CHANGELOG.md differs from what antsibull-changelog generates: run {RELEASE}")
