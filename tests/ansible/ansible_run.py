"""Real Ansible, run as a user would: the collection built and installed from its tarball, playbooks
run by `ansible-playbook -vvv` against localhost, every task result recorded as a JSON line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COLLECTION_SOURCE = ROOT / "ansible"
CALLBACK_PLUGINS = Path(__file__).resolve().parent / "callback_plugins"


def ansible_tool(name: str) -> str:
    """A command of the ansible-core installed beside this interpreter; a missing one fails the test."""
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        pytest.fail(
            f"{path} not found: the Ansible tests need ansible-core from the test extra "
            "(pip install -e '.[test]', Python >= 3.11)"
        )
    return str(path)


def ansible_env(home: Path, **extra: str) -> dict:
    """An environment that isolates Ansible from the user's configuration and this machine's state."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and k != "TEDGE_CONFIG_DIR"}
    env.update(
        LC_ALL="C.UTF-8",  # ansible-core refuses to run without a UTF-8 locale
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_REMOTE_TMP=str(home / "remote-tmp"),
        ANSIBLE_NOCOLOR="1",
        # Module arguments (one-time passwords among them) go over stdin, never into a file on the host.
        ANSIBLE_PIPELINING="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
    )
    env.update(extra)
    return env


@dataclass
class PlaybookRun:
    returncode: int
    output: str  # stdout and stderr of `ansible-playbook -vvv`
    records: list[dict] = field(default_factory=list)

    def results(self, task: str) -> dict[str, dict]:
        """Each host's result of the task named `task` (the last one, when it ran more than once)."""
        found = {r["host"]: r for r in self.records if r["task"] == task}
        if not found:
            raise AssertionError(f"task {task!r} did not run; tasks seen: {sorted({r['task'] for r in self.records})}")
        return found

    def result(self, task: str, host: str = "localhost") -> dict:
        return self.results(task)[host]["result"]

    def outcome(self, task: str, host: str = "localhost") -> str:
        """ok, changed, failed or skipped."""
        return self.results(task)[host]["outcome"]


def write_inventory(path: Path, hosts: dict[str, dict], group: str = "devices", **group_vars) -> Path:
    """A YAML inventory whose hosts run on this machine with this interpreter (which has the engine)."""
    data = {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, **group_vars},
            "children": {group: {"hosts": hosts}},
        }
    }
    path.write_text(yaml.safe_dump(data))
    return path


def run_playbook(
    playbook: Path,
    inventory: Path,
    home: Path,
    collections: Path,
    secrets,
    *args: str,
    env: dict | None = None,
    cwd: Path | None = None,
    timeout: float = 240,
) -> PlaybookRun:
    """Run `ansible-playbook -vvv` and fail the test if any of `secrets()` shows in its output or results.

    `secrets` is called after the run, so that passwords generated and tokens issued during it count.
    """
    home.mkdir(parents=True, exist_ok=True)
    records = home / "results.jsonl"
    records.unlink(missing_ok=True)
    full_env = ansible_env(
        home,
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_CALLBACK_PLUGINS=str(CALLBACK_PLUGINS),
        ANSIBLE_CALLBACKS_ENABLED="record_results",
        RECORD_RESULTS_FILE=str(records),
    )
    full_env.update(env or {})
    command = [ansible_tool("ansible-playbook"), "-vvv", "-i", str(inventory), *args, str(playbook)]
    done = subprocess.run(command, capture_output=True, text=True, env=full_env, cwd=cwd or home, timeout=timeout)
    lines = records.read_text().splitlines() if records.exists() else []
    run = PlaybookRun(done.returncode, done.stdout + done.stderr, [json.loads(line) for line in lines])
    assert_no_secrets(run, secrets())
    return run


def assert_no_secrets(run: PlaybookRun, secrets: list[str]) -> None:
    secrets = [s for s in secrets if s]
    assert secrets, "a run is checked against at least one secret"
    assert "ESTABLISH LOCAL CONNECTION" in run.output, "the run was not verbose enough to show what -vvv shows"
    recorded = json.dumps(run.records)
    for number, secret in enumerate(secrets):
        # The assertion names the secret by number: a failure must not print it either.
        assert secret not in run.output, f"secret #{number} appears in the -vvv output"
        assert secret not in recorded, f"secret #{number} appears in a task result"
