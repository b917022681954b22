#!/usr/bin/env bash
# The main job end to end on the bundled tenant emulator: register, enroll, converge, renew.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv/bin/python -c "import reconciler, c8y_emulator, paho" 2>/dev/null; then
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/pip install --quiet -e '.[mqtt]' -e ./emulator  # the emulator is its own distribution
fi
exec .venv/bin/python examples/demo.py "$@"
