"""`reconcile install-operation`: put the c8y_RenewCertificate template and the certificate_renew
workflow where tedge-mapper-c8y and tedge-agent look for them."""

from __future__ import annotations

import argparse
import os
import shlex

from reconciler.basics.atomic_files import write_atomic
from reconciler.basics.errors import BadInput, file_failure
from reconciler.cli.arguments import command_parser
from reconciler.cli.tedge_operation_files import (
    DEFAULT_COMMAND,
    TEMPLATE_FILE,
    WORKFLOW_FILE,
    template_toml,
    workflow_toml,
)
from reconciler.desired.tedge_toml import DEFAULT_CONFIG_DIR, config_dir_from

HELP = f"""\
Install the Cumulocity operation c8y_RenewCertificate for this device: the workflow
<config-dir>/operations/{WORKFLOW_FILE} (tedge-agent announces the capability once it sees it) and
then the template <config-dir>/operations/c8y/{TEMPLATE_FILE} (tedge-mapper-c8y maps the operation
to the command). Each file is replaced in one step (mode 0644); the workflow first, so that the
template never names a workflow that is not there. The workflow's steps run --reconcile-command as
the agent's user (tedge): see README, "From the tenant", for the file ownership or sudoers drop-in.
"""

EPILOG = """\
exit codes:
  0  installed
  3  bad input (an unusable --reconcile-command)
  1  a file could not be written"""

FILE_MODE = 0o644


def parser() -> argparse.ArgumentParser:
    p = command_parser("reconcile install-operation", HELP, EPILOG)
    p.add_argument("--config-dir", metavar="DIR",
                   help="thin-edge config dir (default: $TEDGE_CONFIG_DIR or /etc/tedge)")
    p.add_argument("--reconcile-command", default=DEFAULT_COMMAND, metavar="CMD",
                   help=f"how the workflow runs reconcile (default {DEFAULT_COMMAND}; e.g. 'sudo -n {DEFAULT_COMMAND}')")
    return p


def run(args) -> int:
    command = args.reconcile_command.strip()
    try:
        words = shlex.split(command)
    except ValueError as err:
        raise BadInput(f"--reconcile-command: {err}") from None
    if not words or '"' in command or "\\" in command or "${" in command:
        raise BadInput("--reconcile-command: a command and its arguments, without quotes, backslashes or ${")
    config_dir = config_dir_from(args.config_dir)
    passed = str(config_dir.absolute()) if config_dir != DEFAULT_CONFIG_DIR else None
    if passed and any(c.isspace() or c in "\"'\\$" for c in passed):
        raise BadInput(f"--config-dir: {passed!r}: the workflow cannot pass a path with spaces, quotes or $")
    if passed and os.path.basename(words[0]) == "sudo":  # `reconcile operation` refuses --config-dir under sudo
        raise BadInput("--config-dir: a workflow that runs reconcile through sudo reads /etc/tedge/reconcile.yaml; "
                       "install it into /etc/tedge, or run reconcile without sudo")
    operations = config_dir / "operations"
    for path, text in ((operations / WORKFLOW_FILE, workflow_toml(command, passed)), (operations / "c8y" / TEMPLATE_FILE, template_toml())):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise file_failure("cannot create", path.parent, err) from None
        write_atomic(path, text.encode(), FILE_MODE)
        print(f"installed {path}")
    return 0
