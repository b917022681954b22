"""A desired state written to a device folder and resolved as a run resolves it: the input of
engine-level tests (reconcile() without the CLI process)."""

from __future__ import annotations

from pathlib import Path

from reconciler.desired.load import load_desired_state
from reconciler.desired.model import DesiredState
from reconciler.desired.resolve import resolve
from reconciler.desired.tedge_toml import load_tedge_config
from tests.device_files import write_state

ONE_TIME_PASSWORD = "one-time-pass-123"


def resolved_spec(config_dir: Path, otp: str | None = ONE_TIME_PASSWORD, **sections) -> DesiredState:
    """write_state's desired state with `sections`, and the one-time password file it names
    (none when `otp` is None), resolved against the folder's tedge.toml."""
    path = write_state(config_dir, **sections)
    if otp is not None:
        (config_dir / "otp").write_text(otp + "\n")
    return resolve(load_desired_state(path), load_tedge_config(config_dir), config_dir)
