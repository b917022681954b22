"""The two files that make `c8y_RenewCertificate` a thin-edge operation: the mapper's template and
the agent's workflow. One source for `reconcile install-operation` and for examples/tedge/ (a test
keeps the two equal)."""

from __future__ import annotations

OPERATION = "certificate_renew"  # the thin-edge command: te/device/main///cmd/certificate_renew/<id>
FRAGMENT = "c8y_RenewCertificate"  # the Cumulocity operation's fragment, and the template's file name
WORKFLOW_FILE = f"{OPERATION}.toml"  # in <config-dir>/operations/
TEMPLATE_FILE = f"{FRAGMENT}.template"  # in <config-dir>/operations/c8y/
DEFAULT_COMMAND = "/usr/local/bin/reconcile"
CHECK_TIMEOUT = "300"  # seconds the check step waits for the activation to put the certificate live


def template_toml() -> str:
    # `input` must evaluate to a JSON object, or the mapper drops the operation: the fragment itself
    # ({} or {"rotateKey": true}). `output` must be a string: the check step's one-line result.
    return f'''\
# Cumulocity operation {FRAGMENT} → thin-edge command {OPERATION} (tedge-cert-reconciler).
# Install: reconcile install-operation. Parameters: {{"rotateKey": true}} renews with a new key.
[exec]
topic = "c8y/devicecontrol/notifications"
on_fragment = "{FRAGMENT}"

[exec.workflow]
operation = "{OPERATION}"
input = "${{.payload.{FRAGMENT}}}"
output = "${{.payload.result}}"
'''


def workflow_toml(command: str = DEFAULT_COMMAND, config_dir: str | None = None) -> str:
    """The workflow; `command` runs reconcile as the agent's user (`tedge`), e.g. `sudo -n /usr/local/bin/reconcile`;
    `config_dir` is passed to each step when it is not thin-edge's default."""
    options = f" --config-dir {config_dir}" if config_dir else ""
    return f'''\
# Renew the device certificate now (tedge-cert-reconciler), as asked by the Cumulocity
# operation {FRAGMENT} (template {TEMPLATE_FILE}). Install: reconcile install-operation.
#
# `tedge reconnect c8y` restarts mosquitto and so cuts the agent's own MQTT connection: the
# activation therefore runs in the background after the state `check` is saved, and `check`
# waits until the renewed certificate is live (or a run failed), so that the operation ends
# truthfully either way.
operation = "{OPERATION}"

[init]
action = "proceed"
on_success = "executing"

[executing]
action = "proceed"
on_success = "renew"

# Renew (the key kept, or rotated with rotateKey) and stage <cert>.new; refused while another
# reconcile holds the lock. Prints stagedSerial, stagedNotAfter and stagedRun, or the failure's reason.
[renew]
script = "{command} operation renew{options} --rotate-key=${{.payload.rotateKey}}"
on_success = "activate"
on_error = {{ status = "failed", reason = "reconcile operation renew failed" }}

# An ordinary run: backs up, swaps and activates the staged certificate, rolling back on failure.
[activate]
background_script = "{command} operation activate{options}"
on_exec = "check"

# Which certificate is live? Prints result (serial and not-after), or the engine's message; updates the twin.
[check]
script = "{command} operation check{options} --serial=${{.payload.stagedSerial}} --after-run=${{.payload.stagedRun}} --timeout={CHECK_TIMEOUT}"
on_success = "successful"
on_error = {{ status = "failed", reason = "reconcile operation check failed" }}

[successful]
action = "cleanup"

[failed]
action = "cleanup"
'''
