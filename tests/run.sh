#!/usr/bin/env bash
# The whole test suite. Sets up what it needs first: mosquitto, strace and systemd-analyze
# (apt-get, as root), a virtual environment in .venv with the package and its test extras. Then the
# Ansible tests a second time under the lowest supported ansible-core (.venv-ansible-lowest).
# Extra arguments go to pytest, and then only the first run is made.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
    missing+=(mosquitto)
fi
if ! command -v strace >/dev/null 2>&1; then
    missing+=(strace)  # the crash-point tests kill the CLI at chosen system calls with it
fi
if ! command -v systemd-analyze >/dev/null 2>&1; then
    missing+=(systemd)  # Debian's package, for `systemd-analyze verify` of the shipped units
fi
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "tests/run.sh: the tests need ${missing[*]}; install: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]' -e './emulator[stand-ins]'  # the tenant emulator (its own distribution) and its thin-edge stand-ins
if [ $# -gt 0 ]; then
    exec .venv/bin/python -m pytest "$@"
fi
.venv/bin/python -m pytest
# The Ansible collection again on the lowest ansible-core it supports (requires_ansible in
# ansible/meta/runtime.yml), in a venv of its own: sanity, the modules, the playbooks, the role.
# (The changelog test needs antsibull-changelog, which only the first venv has.)
if [ ! -x .venv-ansible-lowest/bin/python ]; then
    python3 -m venv .venv-ansible-lowest
fi
.venv-ansible-lowest/bin/pip install --quiet --disable-pip-version-check -e '.[ansible-lowest]' -e './emulator[stand-ins]'
.venv-ansible-lowest/bin/ansible --version | sed -n 1p
exec .venv-ansible-lowest/bin/python -m pytest -p no:cacheprovider tests/ansible --ignore tests/ansible/test_changelog.py
