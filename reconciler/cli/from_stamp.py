"""`reconcile` on a converged device, answered from the stamp (reconciler.converged) before
anything heavy is imported: the standard library and reconciler.basics only (import-linter).

Only a command line made of options this module knows, with the same meaning, is answered here:
-f/--file, --config-dir, --output, --log-format, --metrics-file, --lock-timeout,
--detailed-exitcode (a converged run exits 0 either way) and --jitter (slept here, first). Anything
else (--dry-run, --force, -v, --help, an option of a later version, a typo) goes to the full engine
unread. So does every doubt: no stamp, a stamp that cannot be read or is another version's, an
input that differs, a clock outside the window, a run history with something pending, the lock
held by another run. The full engine then writes a new stamp if the run ends converged.
"""

from __future__ import annotations

import json
import math
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, NamedTuple

from reconciler.basics import logs
from reconciler.basics.durations import parse_duration
from reconciler.basics.errors import ReconcileError
from reconciler.cli.jitter import sleep_jitter
from reconciler.converged import answer as converged
from reconciler.converged.metrics_text import render_metrics, write_metrics
from reconciler.converged.stamp import absolute, stamp_path

CONFIG_DIR_ENV = "TEDGE_CONFIG_DIR"  # as reconciler.desired.tedge_toml.config_dir_from reads it
DEFAULT_CONFIG_DIR = "/etc/tedge"
DESIRED_STATE_NAME = "reconcile.yaml"
WITH_VALUE = {"-f": "file", "--file": "file", "--config-dir": "config_dir", "--output": "output",
              "--log-format": "log_format", "--metrics-file": "metrics_file", "--lock-timeout": "lock_timeout",
              "--jitter": "jitter"}
CHOICES = {"output": ("text", "json"), "log_format": ("text", "json")}


class Options(NamedTuple):
    values: dict
    detailed_exitcode: bool
    without_jitter: list  # the command line less --jitter, for the full engine once the wait is over


class Answer(NamedTuple):
    code: int | None  # None: the full engine runs, with `argv`
    argv: list


def _option(argv: list[str], i: int) -> tuple[str, str, int] | None:
    """(option, value, words used) for `--name value` or `--name=value` at argv[i]; None if not one of ours."""
    word = argv[i]
    if word in WITH_VALUE:
        if i + 1 >= len(argv) or argv[i + 1].startswith("-"):  # argparse reads "-x" as an option: let it say so
            return None
        return word, argv[i + 1], 2
    name, equals, value = word.partition("=")
    if equals and name.startswith("--") and name in WITH_VALUE and (value or name == "--config-dir"):
        return name, value, 1  # an empty value means something to argparse (Path("") is "."): let it judge
    return None


def parse(argv: list[str]) -> Options | None:
    """The options, when every word of `argv` is one this module knows; None otherwise."""
    values = {"output": "text", "log_format": "text"}
    detailed, rest, i = False, [], 0
    while i < len(argv):
        if argv[i] == "--detailed-exitcode":
            detailed, used = True, 1
            rest.append(argv[i])
        else:
            option = _option(argv, i)
            if option is None:
                return None
            name, value, used = option
            values[WITH_VALUE[name]] = value  # the last one wins, as with argparse
            if name != "--jitter":
                rest += argv[i:i + used]
        i += used
    if any(values[key] not in choices for key, choices in CHOICES.items()):
        return None
    return Options(values, detailed, rest)


def _lock_timeout_valid(text: str | None) -> bool:
    if text is None:
        return True
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and value >= 0  # as cli.arguments.seconds: else argparse refuses it, exit 3


def desired_state_path(options: dict) -> Path:
    """As reconciler.desired.source.desired_state_path: -f, else <config dir>/reconcile.yaml."""
    return Path(options["file"]) if options.get("file") else config_dir(options) / DESIRED_STATE_NAME


def config_dir(options: dict) -> Path:
    return Path(options.get("config_dir") or os.environ.get(CONFIG_DIR_ENV) or DEFAULT_CONFIG_DIR)


def answer(argv: list[str]) -> Answer:
    """Exit code 0 when the stamp answers, after recording the run and printing the verdict."""
    options = parse(argv)
    if options is None or "file" in options.values and not options.values["file"]:
        return Answer(None, argv)
    values = options.values
    if not _lock_timeout_valid(values.get("lock_timeout")):
        return Answer(None, argv)
    if "jitter" in values:
        try:
            limit = parse_duration(values["jitter"])
        except ValueError:
            return Answer(None, argv)  # the full engine names the bad duration
        sleep_jitter(limit)  # before anything is read, as the full engine does; it does not sleep again
        argv = options.without_jitter
    desired = desired_state_path(values)
    answered = converged.answer(stamp_path(desired), absolute(desired), config_dir(values), os.environ)
    if answered is None:
        return Answer(None, argv)
    _answer(answered, values)
    return Answer(0, argv)


def would_answer(desired: Path, config: Path, environ: Mapping[str, str], now: datetime) -> bool:
    """Whether a run at `now` would be answered from the stamp (short of the lock); nothing is written."""
    try:
        stamp = converged.usable_stamp(stamp_path(desired), absolute(desired), config, environ)
        return stamp is not None and converged.verdict_holds(stamp, environ, now)
    except (OSError, ValueError):
        return False


def _answer(answered: converged.Answered, values: dict) -> None:
    stamp, report = answered.stamp, answered.report
    if values.get("metrics_file"):
        text = render_metrics(stamp.device_id, report["before"]["certificate"], answered.history,
                              datetime.now(timezone.utc), 0)
        try:
            write_metrics(Path(values["metrics_file"]), text)
        except ReconcileError as err:
            logs.warn(f"cannot write the metrics file: {err.message}")
    if values["output"] == "json":
        sys.stdout.write(json.dumps({**report, "answered_from": "stamp"}, indent=2) + "\n")
    else:
        sys.stdout.write(stamp.summary + "\n")
    logs.configure_logging(0, values["log_format"])
    logs.set_device(stamp.device_id)
    logs.emit(None, level="info", event="result", message=stamp.summary, status="converged", reason=None, exit_code=0,
              answered_from="stamp")
