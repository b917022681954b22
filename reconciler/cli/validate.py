"""`reconcile validate`: check desired-state files without touching the device."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reconciler.basics.errors import BadInput, ExitCode
from reconciler.cli.arguments import command_parser
from reconciler.desired.load import load_desired_state

HELP = """\
Check desired-state files without touching the device: YAML, fields, values.
Prints one line per problem (file:line: field: reason); exit 0 all valid, 3 any invalid."""


def parser() -> argparse.ArgumentParser:
    p = command_parser("reconcile validate", HELP)
    p.add_argument("files", nargs="+", type=Path, metavar="STATE")
    return p


def run(args) -> int:
    problems = 0
    for path in args.files:
        try:
            load_desired_state(path, check_owner=False)
            print(f"{path}: valid")
        except BadInput as err:
            problems += 1
            print(f"reconcile: error: {err.message}", file=sys.stderr)
    return int(ExitCode.BAD_INPUT if problems else ExitCode.OK)
