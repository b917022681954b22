"""`reconcile schema`: print the JSON Schema of the desired-state file."""

from __future__ import annotations

import argparse
import sys

from reconciler.cli.arguments import command_parser
from reconciler.desired.schema import desired_state_schema_text


def parser() -> argparse.ArgumentParser:
    return command_parser("reconcile schema", "Print the JSON Schema of the desired-state file.")


def run(_args) -> int:
    sys.stdout.write(desired_state_schema_text())
    return 0
