# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""Module options → the resolved desired state, built as the CLI builds it from a file.

Call only after `require_reconciler()`: the engine is imported here, on use.
"""

from pathlib import Path

from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._desired_state_options import (
    ONE_TIME_PASSWORD,
    SECTIONS,
)
from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._library import engine_loading

# The name under which a password given as `enrollment.one_time_password` is handed to the engine.
# It exists only in the mapping passed to reconcile(), never in os.environ: child processes
# (the activation command) cannot see it.
IN_MEMORY_PASSWORD = "TEDGE_CERT_ANSIBLE_ONE_TIME_PASSWORD"


def _given(value):
    """The options the user set, without Ansible's None for the ones left out."""
    if isinstance(value, dict):
        return dict((name, _given(item)) for name, item in value.items() if item is not None)
    return value


def desired_state_data(params):
    """The desired-state mapping of the inline options, and the in-memory password (or None)."""
    data = _given(dict((name, params[name]) for name in ["device_id"] + sorted(SECTIONS)))
    enrollment = data.get("enrollment", {})
    password = enrollment.pop(ONE_TIME_PASSWORD, None)
    if password is not None:
        enrollment["one_time_password_env"] = IN_MEMORY_PASSWORD
    return data, password


def load_desired_state(params, required=True):
    """The resolved DesiredState and the `environ` for reconcile(); BadInput reads `field: reason`.

    As the CLI: inline options, else `state_file`, else `<config_dir>/reconcile.yaml`; when that is
    missing and not `required` (certificate_info, like `reconcile show`), thin-edge's defaults alone.
    """
    with engine_loading():  # pydantic's plugins off for these imports only
        from pydantic import ValidationError
        from reconciler.basics.errors import BadInput
        from reconciler.desired.resolve import resolve
        from reconciler.desired.model import DesiredState
        from reconciler.desired.tedge_toml import config_dir_from, load_tedge_config

    if params.get("device_id") is None:
        from reconciler.desired.source import load_spec, load_spec_or_defaults

        password = _password_beside_a_file(params.get("enrollment"))
        file = Path(params["state_file"]) if params["state_file"] else None
        if not required:
            return load_spec_or_defaults(params.get("config_dir"), file).spec, None
        spec = load_spec(params.get("config_dir"), file)
        if password is None:
            return spec, None
        return _with_password_in_memory(spec), {IN_MEMORY_PASSWORD: password}
    config_dir = config_dir_from(params.get("config_dir"))
    config = load_tedge_config(config_dir)
    data, password = desired_state_data(params)
    _check_password(password)
    try:
        desired = DesiredState.model_validate(data)
    except ValidationError as err:
        from reconciler.desired.load import field_problem

        raise BadInput("; ".join(field_problem(error) for error in err.errors())) from None
    # Relative paths in inline options are relative to the config dir (a file's, to the file).
    environ = None if password is None else {IN_MEMORY_PASSWORD: password}
    return resolve(desired, config, config_dir.absolute()), environ


def _check_password(password):
    if password is not None and not password.strip():  # else the engine would name our private variable
        from reconciler.basics.errors import BadInput

        raise BadInput(f"enrollment.{ONE_TIME_PASSWORD}: must not be empty")


def _password_beside_a_file(enrollment):
    """The in-memory password given with a desired-state file; any other enrollment option is refused,
    since the file has the say (the role writes the file and passes the password this way)."""
    from reconciler.basics.errors import BadInput

    given = _given(enrollment or {})
    others = sorted(name for name in given if name != ONE_TIME_PASSWORD)
    if others:
        raise BadInput(
            f"enrollment.{others[0]}: comes from the desired-state file; with state_file (or without device_id) "
            f"only enrollment.{ONE_TIME_PASSWORD} may be given"
        )
    password = given.get(ONE_TIME_PASSWORD)
    _check_password(password)
    return password


def _with_password_in_memory(spec):
    """The file's desired state, its one-time password read from the module's own mapping instead."""
    enrollment = spec.enrollment.model_copy(update={"one_time_password_file": None, "one_time_password_env": IN_MEMORY_PASSWORD})
    return spec.model_copy(update={"enrollment": enrollment})
