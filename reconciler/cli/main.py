"""The `reconcile` command line: plan and apply a desired state, show a certificate, print the schema."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from reconciler import __version__
from reconciler.basics import logs
from reconciler.basics.errors import BadInput, ExitCode, ReconcileError

EXIT_CODES = """\
exit codes:
  0  converged (whether or not something changed: a timer must not read a renewal as a failure)
  1  an action failed; the live key and certificate are as they were (or were rolled back)
  2  with --detailed-exitcode only: changes applied (with --dry-run: changes pending)
  3  bad input: desired state, tedge.toml or command line
  4  blocked: the device needs a person (unreadable key, expired without a one-time password, clock)
  5  locked: another reconcile kept the lock past --lock-timeout
  6  the tenant refused for good (bad CSR, feature off, unusable answer, TLS failure)
  7  the registration did not appear within enrollment.max_wait
  8  the tenant, the local MQTT broker or the auth proxy could not be reached
  9  backing off: the tenant failed earlier runs; no request before the time shown (--force)
  130 interrupted; nothing half-written"""

MAIN_HELP = """\
Bring this device's key and certificate to the desired state.

Reads the desired state (-f), fills what it leaves out from tedge.toml (--config-dir),
observes the key, certificate, staged <cert>.new and backups, plans the actions that
close the gap (each with a reason such as KeyMissing or RenewalDue) and applies them
under a lock. --dry-run prints the plan and changes nothing.

other commands:
  reconcile show      describe a certificate: subject, issuer, validity, renewal
  reconcile status    the certificate and what the last runs did (run history, backoff)
  reconcile register  register devices on the tenant with one-time passwords (admin side)
  reconcile schema    print the JSON Schema of the desired state
  reconcile validate  check desired-state files without touching the device
  (each has its own --help)
"""


NEEDS_RENEWAL_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit with our bad-input code and a one-line message."""

    def error(self, message: str):
        raise BadInput(f"{self.prog}: {message} (see --help)")


def _common(parser: argparse.ArgumentParser) -> None:
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


def _apply_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reconcile",
        description=MAIN_HELP,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(parser)
    parser.add_argument("--dry-run", action="store_true", help="print the plan; change nothing on disk, send nothing")
    parser.add_argument(
        "--detailed-exitcode", action="store_true", help="exit 2 when changes were applied (or are pending with --dry-run)"
    )
    parser.add_argument(
        "--force", action="store_true",
        help="ask the tenant now even while backing off after earlier failures (tenant.backoff)",
    )
    parser.add_argument(
        "--lock-timeout", type=float, default=60.0, metavar="SECONDS",
        help="how long to wait for another run's lock (default: 60)",
    )
    parser.add_argument(
        "--jitter", type=_duration, metavar="DURATION",
        help="first sleep a random time between 0 and DURATION (30m, 1h, 45s), before reading the desired "
        "state and taking the lock, so that a fleet started by the same cron minute spreads its calls to the "
        "tenant; ignored with --dry-run",
    )
    parser.add_argument(
        "--metrics-file", type=Path, metavar="PATH",
        help="write a Prometheus node-exporter textfile (e.g. /var/lib/prometheus/node-exporter/tedge-cert.prom) "
        "at the end of every run, success or not; not with --dry-run",
    )
    parser.add_argument(
        "--log-format", choices=("text", "json"), default="text",
        help="stderr as text lines, or as one JSON object per line for log shippers (default: text)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv for protocol detail)")
    parser.add_argument("--version", action="version", version=f"reconcile {__version__}")
    return parser


def _duration(text: str):
    from reconciler.basics.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _show_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reconcile show",
        description="Describe a certificate: subject, issuer, serial, validity, days until expiry, SHA-256\n"
        "fingerprint, and whether renewal is due under the desired state's validity.renew_before\n"
        "(or tedge.toml's certificate.validity.minimum_duration, or 30d).",
        epilog="exit codes: 0 shown, 1 the certificate cannot be read, 3 bad input\n"
        "with --needs-renewal: 0 renewal due, 1 not due, 2 cannot be read, 3 bad input",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(parser)
    parser.add_argument("--cert", type=Path, metavar="PATH", help="certificate to show (default: paths.cert, device.cert_path)")
    parser.add_argument(
        "--needs-renewal",
        action="store_true",
        help="print nothing; exit 0 when renewal is due (or the certificate expired), 1 when it is not, "
        "2 when it cannot be read (thin-edge's `tedge cert needs-renewal` convention, for ExecCondition=)",
    )
    return parser


def _validate_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reconcile validate",
        description="Check desired-state files without touching the device: YAML, fields, values.\n"
        "Prints one line per problem (file:line: field: reason); exit 0 all valid, 3 any invalid.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="STATE")
    return parser


def run_validate(args) -> int:
    from reconciler.desired.load import load_desired_state

    problems = 0
    for path in args.files:
        try:
            load_desired_state(path)
            print(f"{path}: valid")
        except BadInput as err:
            problems += 1
            print(f"reconcile: error: {err.message}", file=sys.stderr)
    return int(ExitCode.BAD_INPUT if problems else ExitCode.OK)


def _schema_parser() -> argparse.ArgumentParser:
    return _Parser(prog="reconcile schema", description="Print the JSON Schema of the desired-state file.")


def _load_spec(args, required: bool = True):
    from reconciler.desired.resolve import resolve
    from reconciler.desired.model import DesiredState
    from reconciler.desired.load import load_desired_state
    from reconciler.desired.tedge_toml import config_dir_from, load_tedge_config

    config_dir = config_dir_from(args.config_dir)
    path = args.file or config_dir / "reconcile.yaml"
    config = load_tedge_config(config_dir)
    if not required and args.file is None and not path.exists():
        return resolve(DesiredState(device_id="unknown"), config, Path.cwd())
    desired = load_desired_state(path)
    return resolve(desired, config, path.parent.absolute())


_LEVELS = {"failed": "error", "blocked": "warning", "rolled-back": "warning", "interrupted": "warning", "backoff": "warning"}


def _emit(report, output: str) -> int:
    from reconciler.runs.report import render_json, render_text, summary

    sys.stdout.write(render_json(report) if output == "json" else render_text(report))
    code = report.exit_code()
    text = None
    if output == "text" and report.failed:
        text = f"reconcile: error: {report.failed.message}"
    elif output == "text" and report.plan.blockers:  # a blocked run ends like a failed one: stderr says why
        text = "\n".join(f"reconcile: blocked [{b.reason.value}]: {b.message}" for b in report.plan.blockers)
    elif output == "text" and report.backoff is not None:
        text = f"reconcile: {report.backoff_message}"
    for warning in report.warnings:  # in the text report already; log shippers get them as events
        logs.emit(None, level="warning", event="warning", message=warning)
    reason = report.plan.blockers[0].reason.value if report.plan.blockers else None
    logs.emit(text, level=_LEVELS.get(report.status, "info"), event="result", message=summary(report),
              status=report.status, reason=reason, exit_code=code)
    return code


def _progress(output: str):
    from reconciler.runs.report import render_progress

    def progress(result):
        action = result.action
        text = render_progress(result) if output == "text" else None
        logs.emit(text, level=_LEVELS.get(result.status, "info"), event="action", message=action.message,
                  action=action.kind.value, reason=action.reason.value, status=result.status,
                  detail=result.detail, target=None if action.target is None else str(action.target))

    return progress


def _sleep_jitter(args) -> None:
    from reconciler.cli.jitter import sleep_jitter

    def announce(seconds: float) -> None:
        if args.verbose:
            logs.emit(f"reconcile: waiting {seconds:.0f}s before the run (--jitter)", event="jitter",
                      sleep_s=round(seconds, 1))

    sleep_jitter(args.jitter, before_sleep=announce)


def run_reconcile(args) -> int:
    from reconciler.runs.engine import reconcile

    if args.jitter and not args.dry_run:
        _sleep_jitter(args)  # before the desired state is read, so that the run uses what is current then
    spec = report = code = None
    try:
        spec = _load_spec(args)
        logs.set_device(spec.device_id)
        if args.lock_timeout < 0:
            raise BadInput("--lock-timeout must not be negative")
        report = reconcile(
            spec, dry_run=args.dry_run, lock_timeout=args.lock_timeout, progress=_progress(args.output), force=args.force
        )
        report.detailed_exitcode = args.detailed_exitcode
        code = _emit(report, args.output)
        return code
    except ReconcileError as err:
        code = int(err.exit_code)
        raise
    except KeyboardInterrupt:
        code = int(ExitCode.INTERRUPTED)
        raise
    except Exception:  # a bug: main() says so in one line; the metrics still show a failed run
        code = int(ExitCode.ERROR)
        raise
    finally:
        if args.metrics_file and not args.dry_run and code is not None:  # also what is known of a run cut short
            from reconciler.runs.metrics_file import write_run_metrics

            write_run_metrics(args.metrics_file, spec, report, code)


def certificate_facts(args):
    """The desired state (or defaults, without one) and the facts of the certificate to show."""
    from reconciler.runs.engine import utc_now
    from reconciler.runs.facts import cert_facts
    from reconciler.device.observe import observe_cert

    spec = _load_spec(args, required=False)
    path = getattr(args, "cert", None) or spec.paths.cert
    return spec, cert_facts(observe_cert(path), spec.validity.renew_before, utc_now())


def certificate_problem(facts: dict) -> str | None:
    """Why the certificate cannot be shown, or None."""
    if not facts["exists"]:
        return f"{facts['path']}: no such certificate"
    if facts["error"]:
        return f"{facts['path']}: {facts['error']}"
    return None


def certificate_text(facts: dict, renew_before) -> str:
    due = "yes" if facts["renewal_due"] else "no"
    state = "EXPIRED" if facts["expired"] else f"{facts['days_left']:g} days left"
    return (
        f"certificate:  {facts['path']}\n"
        f"subject:      {facts['subject']}\n"
        f"issuer:       {facts['issuer']}\n"
        f"serial:       {facts['serial']}\n"
        f"valid from:   {facts['not_before']}\n"
        f"valid until:  {facts['not_after']} ({state})\n"
        f"renew at:     {facts['renew_at']} (renew_before {renew_before}; due now: {due})\n"
        f"key:          {facts['key_algorithm']}\n"
        f"sha256:       {facts['fingerprint_sha256']}"
    )


def run_show(args) -> int:
    import json

    spec, facts = certificate_facts(args)
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
    print(certificate_text(facts, spec.validity.renew_before))
    return 0


def run_schema(_args) -> int:
    from reconciler.desired.schema import desired_state_schema_text

    sys.stdout.write(desired_state_schema_text())
    return 0


def _register_parser():
    from reconciler.cli.register import parser

    return parser()


def run_register(args) -> int:
    from reconciler.cli.register import run

    return run(args)


def _status_parser():
    from reconciler.cli.status import parser

    return parser()


def run_status(args) -> int:
    from reconciler.cli.status import run

    return run(args)


COMMANDS = {
    "show": (_show_parser, run_show),
    "status": (_status_parser, run_status),
    "schema": (_schema_parser, run_schema),
    "validate": (_validate_parser, run_validate),
    "register": (_register_parser, run_register),
}


def _raise_interrupt(_signum, _frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # pydantic looks up plugin entry points on first use, which costs more than our whole plan.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    args = None
    try:
        if argv and argv[0] in COMMANDS:
            make_parser, command = COMMANDS[argv[0]]
            args = make_parser().parse_args(argv[1:])
        else:
            args = _apply_parser().parse_args(argv)
            command = run_reconcile
        logs.configure_logging(getattr(args, "verbose", 0), getattr(args, "log_format", "text"))
        return command(args)
    except ReconcileError as err:
        code = int(err.exit_code)
        logs.emit(f"reconcile: error: {err.message}", level="error", event="result", message=err.message,
                  status="failed", exit_code=code)
        if getattr(args, "output", None) == "json":  # machine readers get a document even now
            from reconciler.runs.report import error_document

            sys.stdout.write(error_document(err))
        return code
    except KeyboardInterrupt:
        logs.emit("reconcile: interrupted; no file was left half-written", level="warning", event="result",
                  status="interrupted", exit_code=int(ExitCode.INTERRUPTED))
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitCode.ERROR)
    except Exception as err:  # a bug, never a reason to dump a traceback on an operator; -vv shows it
        print(f"reconcile: internal error: {type(err).__name__}: {err} (a bug: please report it, with -vv output)", file=sys.stderr)
        if getattr(args, "verbose", 0) >= 2:
            import traceback

            traceback.print_exc()
        return int(ExitCode.ERROR)
