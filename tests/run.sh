#!/usr/bin/env bash
# The whole test suite. Sets up what it needs first: mosquitto, strace and systemd-analyze
# (apt-get, as root), a virtual environment in .venv with the package and its test extras. Extra
# arguments go to pytest.
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
exec .venv/bin/python -m pytest "$@"
