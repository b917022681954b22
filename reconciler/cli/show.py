"""`reconcile show`: describe a certificate; with --needs-renewal, answer in the exit code only."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from reconciler.basics.errors import ExitCode
from reconciler.cli.arguments import add_desired_state_options, command_parser
from reconciler.cli.certificate_view import certificate_facts, certificate_problem, certificate_text

HELP = """\
Describe a certificate: subject, issuer, serial, validity, days until expiry, SHA-256
fingerprint, and whether renewal is due under the desired state's validity.renew_before
(or tedge.toml's certificate.validity.minimum_duration, or 30d)."""

EPILOG = """\
exit codes: 0 shown, 1 the certificate cannot be read, 3 bad input
with --needs-renewal: 0 renewal due, 1 not due, 2 cannot be read, 3 bad input"""

NEEDS_RENEWAL_ERROR = 2


def parser() -> argparse.ArgumentParser:
    p = command_parser("reconcile show", HELP, EPILOG)
    add_desired_state_options(p)
    p.add_argument("--cert", type=Path, metavar="PATH", help="certificate to show (default: paths.cert, device.cert_path)")
    p.add_argument(
        "--needs-renewal",
        action="store_true",
        help="print nothing; exit 0 when renewal is due (or the certificate expired), 1 when it is not, "
        "2 when it cannot be read (thin-edge's `tedge cert needs-renewal` convention, for ExecCondition=)",
    )
    return p


def run(args) -> int:
    source, facts = certificate_facts(args)
    if args.needs_renewal:
        if not facts["exists"] or facts["error"]:
            return NEEDS_RENEWAL_ERROR
        return 0 if facts["renewal_due"] or facts["expired"] else 1
    problem = certificate_problem(facts)
    if problem:
        print(f"reconcile: error: {problem}", file=sys.stderr)
        return int(ExitCode.ERROR)
    if args.output == "json":
        print(json.dumps(facts, indent=2))
        return 0
    print(certificate_text(facts, source.spec.validity.renew_before))
    return 0
