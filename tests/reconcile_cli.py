"""`reconcile` as a separate process, for tests that need no tenant (tests/tenant_device.py has the
one wired to the emulator)."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import RECONCILE

# write_state's tenant is https://127.0.0.1:1; with no wait, a run makes one attempt there and fails.
UNREACHABLE_TENANT = {"enrollment": {"one_time_password_file": "otp", "max_wait": "0s"}}


def run(*args, env=None, cwd=None) -> subprocess.CompletedProcess:
    """The CLI with `args`, the environment's TEDGE_CONFIG_DIR removed, output captured as text."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("TEDGE_CONFIG_DIR", None)
    return subprocess.run([*RECONCILE, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=60)
