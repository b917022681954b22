"""`reconcile fleet`: the tenant administrator's view of every device's certificate, and renewals
started from the tenant (`status`, `renew`)."""

from __future__ import annotations

import argparse

from reconciler.basics.errors import BadInput
from reconciler.cli import fleet_renew, fleet_status
from reconciler.cli.arguments import Parser, add_admin_options, command_parser, duration

HELP = """\
The fleet from the tenant: every device's certificate as its twin fragment `deviceCertificate`
shows it (reconcile publishes it after each run), and renewals started as Cumulocity operations
(`c8y_RenewCertificate`), which the device's workflow carries out.

  reconcile fleet status [--expiring-within 30d] [--failing] [--output table|json|csv]
  reconcile fleet renew (--device ID... | --expiring-within D | --group NAME | --retry-failed BULK_ID)
                        [--rotate-key] [--ramp 5s] [--dry-run] [--wait [--timeout 30m]]

Admin credentials come from C8Y_USER, C8Y_PASSWORD, C8Y_TENANT in the environment, or from
--credentials-file (the same KEY=VALUE lines); never from the command line. The tenant is --tenant
or $C8Y_HOST. See `reconcile fleet status --help` and `reconcile fleet renew --help`.
"""


def parser() -> argparse.ArgumentParser:
    p = command_parser("reconcile fleet", HELP)
    actions = p.add_subparsers(dest="action", metavar="status|renew", parser_class=Parser)
    status = actions.add_parser("status", help="every device's certificate, soonest expiry first",
                                description=fleet_status.HELP, epilog=fleet_status.EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_admin_options(status)
    status.add_argument("--expiring-within", type=duration, metavar="D", help="only certificates that expire within D (e.g. 30d)")
    status.add_argument("--failing", action="store_true", help="only devices whose last runs failed (consecutiveFailures > 0)")
    status.add_argument("--output", choices=("table", "json", "csv"), default="table", help="output format (default: table)")
    renew = actions.add_parser("renew", help="create c8y_RenewCertificate operations",
                               description=fleet_renew.HELP, epilog=fleet_renew.EPILOG,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    add_admin_options(renew)
    which = renew.add_mutually_exclusive_group(required=True)
    which.add_argument("--device", action="extend", nargs="+", metavar="ID", help="device ids (c8y_Serial; repeatable)")
    which.add_argument("--expiring-within", type=duration, metavar="D", help="every device whose certificate expires within D")
    which.add_argument("--group", metavar="NAME", help="every device of this device group, as one bulk operation")
    which.add_argument("--retry-failed", metavar="BULK_ID", help="the failed devices of this bulk operation, as a new one")
    renew.add_argument("--rotate-key", action="store_true", help="renew with a new key (default: keep the device's key)")
    renew.add_argument("--ramp", type=duration, metavar="D",
                       help="time between two devices: the bulk operation's creationRamp (default 5s), or a pause "
                            "between single operations (default none)")
    renew.add_argument("--dry-run", action="store_true", help="show what would be created; create nothing")
    renew.add_argument("--wait", action="store_true", help="follow the operations to their end and print a summary")
    renew.add_argument("--timeout", type=duration, default=None, metavar="D", help="how long --wait waits (default: 30m)")
    renew.add_argument("--poll", type=duration, default=None, metavar="D", help="how often --wait asks the tenant (default: 2s)")
    renew.add_argument("--output", choices=("text", "json"), default="text", help="output format (default: text)")
    return p


def run(args) -> int:
    if args.action is None:
        raise BadInput("reconcile fleet: give status or renew (see --help)")
    if not args.tenant:
        raise BadInput(f"reconcile fleet {args.action}: --tenant URL (or $C8Y_HOST) is required")
    return (fleet_status if args.action == "status" else fleet_renew).run(args)
