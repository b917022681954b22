#!/usr/bin/env bash
# The main job end to end on the bundled tenant emulator: register, enroll, converge, renew.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/reconcile ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet -e '.[mqtt]'
fi
exec .venv/bin/python examples/demo.py "$@"
