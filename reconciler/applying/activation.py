"""Running the activation command (`tedge reconnect c8y` or the user's own)."""

from __future__ import annotations

import os
import subprocess

from reconciler.basics.errors import ReconcileError, Unavailable
from reconciler.desired.model import DesiredState

TEDGE_KEPT_OLD_CERTIFICATE = 3  # `tedge reconnect` exit code: the candidate failed, the old one stays


def run_activation(spec: DesiredState) -> None:
    command = list(spec.activation.command)
    shown = " ".join(command)
    timeout = spec.activation.timeout.total_seconds()
    secret = spec.enrollment.one_time_password_env
    environment = {name: value for name, value in os.environ.items() if name != secret}  # the password stays ours
    try:
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace", timeout=timeout,
            env=environment,
        )
    except FileNotFoundError:
        raise Unavailable(f"activation command `{shown}`: {command[0]} is not installed or not on PATH") from None
    except PermissionError:
        raise Unavailable(f"activation command `{shown}`: {command[0]} is not executable") from None
    except subprocess.TimeoutExpired:
        raise ReconcileError(f"activation command `{shown}` did not finish within {timeout:g}s") from None
    if result.returncode == 0:
        return
    last = (result.stderr or result.stdout).strip().splitlines()
    said = f": {last[-1][:200]}" if last else ""
    if spec.activation.strategy == "tedge" and result.returncode == TEDGE_KEPT_OLD_CERTIFICATE:
        raise ReconcileError(f"`{shown}` kept the current certificate (exit 3): the new one failed its test connection{said}")
    raise ReconcileError(f"activation command `{shown}` failed with exit code {result.returncode}{said}")
