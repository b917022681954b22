"""What every `reconcile` command shares on its command line: the parser class, the common
options and the option types."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from reconciler.basics.durations import parse_duration
from reconciler.basics.errors import BadInput


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit with our bad-input code and a one-line message."""

    def error(self, message: str):
        raise BadInput(f"{self.prog}: {message} (see --help)")


def command_parser(prog: str, description: str, epilog: str | None = None) -> Parser:
    return Parser(prog=prog, description=description, epilog=epilog,
                  formatter_class=argparse.RawDescriptionHelpFormatter)


def add_desired_state_options(parser: argparse.ArgumentParser) -> None:
    """--config-dir, -f and --output: where the desired state is, and how to answer."""
    parser.add_argument(
        "--config-dir",
        metavar="DIR",
        help="thin-edge config dir holding tedge.toml (default: $TEDGE_CONFIG_DIR or /etc/tedge)",
    )
    parser.add_argument(
        "-f", "--file", metavar="STATE", type=Path,
        help="desired-state YAML (default: <config-dir>/reconcile.yaml)",
    )
    parser.add_argument("--output", choices=("text", "json"), default="text", help="output format (default: text)")


def seconds(text: str) -> float:
    """An argparse type: a finite, non-negative number of seconds (nan would wait forever)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a finite number of seconds, 0 or more")
    return value


def add_admin_options(parser: argparse.ArgumentParser) -> None:
    """--tenant, --ca-bundle and --credentials-file: the administrator's side (register, fleet)."""
    parser.add_argument("--tenant", default=os.environ.get("C8Y_HOST"), metavar="URL",
                        help="tenant address (default: $C8Y_HOST)")
    parser.add_argument("--ca-bundle", type=Path, metavar="PEM",
                        help="trust for the tenant's HTTPS instead of the system store")
    parser.add_argument("--credentials-file", type=Path, metavar="FILE", help="C8Y_USER=/C8Y_PASSWORD=/C8Y_TENANT= lines")


def duration(text: str):
    """An argparse type: 30m, 1h, 45s, 7d."""
    try:
        return parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
