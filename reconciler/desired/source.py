"""Where a run's desired state comes from: the desired-state file, or — for the commands that
only read (show, status, certificate_info) — tedge.toml and thin-edge's defaults alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.desired.load import load_desired_state
from reconciler.desired.model import DesiredState
from reconciler.desired.resolve import resolve
from reconciler.desired.tedge_toml import config_dir_from, load_tedge_config

# The id a spec built from defaults carries: the model requires one, and no file named it.
PLACEHOLDER_DEVICE_ID = "unknown"  # shown only; decisions read DesiredOrDefaults.given


@dataclass(frozen=True)
class DesiredOrDefaults:
    spec: DesiredState
    given: bool  # False: there was no desired-state file; spec.device_id is only a placeholder


def desired_state_path(config_dir_option: str | None, file: Path | None) -> Path:
    return file or config_dir_from(config_dir_option) / "reconcile.yaml"


def load_spec(config_dir_option: str | None, file: Path | None) -> DesiredState:
    """The resolved desired state of a file (-f, else <config-dir>/reconcile.yaml); BadInput if it cannot be read."""
    config = load_tedge_config(config_dir_from(config_dir_option))
    path = desired_state_path(config_dir_option, file)
    return resolve(load_desired_state(path), config, path.parent.absolute())


def load_spec_or_defaults(config_dir_option: str | None, file: Path | None) -> DesiredOrDefaults:
    """As load_spec; but when no file was named and the default one is missing, the defaults alone."""
    path = desired_state_path(config_dir_option, file)
    if file is None and not path.exists():
        config = load_tedge_config(config_dir_from(config_dir_option))
        return DesiredOrDefaults(resolve(DesiredState(device_id=PLACEHOLDER_DEVICE_ID), config, Path.cwd()), False)
    return DesiredOrDefaults(load_spec(config_dir_option, file), True)
