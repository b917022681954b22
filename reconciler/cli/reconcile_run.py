"""`reconcile` itself: plan and apply the desired state, or show the plan (--dry-run)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reconciler import __version__
from reconciler.basics import logs
from reconciler.basics.errors import BadInput, ExitCode, ReconcileError
from reconciler.cli.arguments import add_desired_state_options, command_parser, duration, seconds
from reconciler.cli.jitter import sleep_jitter
from reconciler.desired.source import desired_state_path, load_spec
from reconciler.desired.tedge_toml import config_dir_from
from reconciler.planning.model import RenewalRequest
from reconciler.runs.engine import reconcile
from reconciler.runs.metrics_file import write_run_metrics
from reconciler.runs.report import render_json, render_progress, render_text, summary
from reconciler.runs.stamp_keeper import NoStamp, StampKeeper

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

HELP = """\
Bring this device's key and certificate to the desired state.

Reads the desired state (-f), fills what it leaves out from tedge.toml (--config-dir),
observes the key, certificate, staged <cert>.new and backups, plans the actions that
close the gap (each with a reason such as KeyMissing or RenewalDue) and applies them
under a lock. --dry-run prints the plan and changes nothing.

other commands:
  reconcile show      describe a certificate: subject, issuer, validity, renewal
  reconcile status    the certificate and what the last runs did (run history, backoff)
  reconcile register  register devices on the tenant with one-time passwords (admin side)
  reconcile fleet     every device's certificate from the tenant, and renewals on demand (admin side)
  reconcile schema    print the JSON Schema of the desired state
  reconcile validate  check desired-state files without touching the device
  reconcile install-operation  install the c8y_RenewCertificate operation (thin-edge workflow + template)
  reconcile operation          the steps of that workflow, run by tedge-agent
  (each has its own --help)
"""

_LEVELS = {"failed": "error", "blocked": "warning", "rolled-back": "warning", "interrupted": "warning", "backoff": "warning"}


def parser() -> argparse.ArgumentParser:
    p = command_parser("reconcile", HELP, EXIT_CODES)
    add_desired_state_options(p)
    p.add_argument("--dry-run", action="store_true", help="print the plan; change nothing on disk, send nothing")
    p.add_argument(
        "--detailed-exitcode", action="store_true", help="exit 2 when changes were applied (or are pending with --dry-run)"
    )
    p.add_argument(
        "--force", action="store_true",
        help="ask the tenant now even while backing off after earlier failures (tenant.backoff)",
    )
    p.add_argument(
        "--renew-now", action="store_true",
        help="renew although the certificate is not due (a compromised key, a CA change), with every step of a "
        "normal renewal: verified, backed up, swapped, activated, rolled back on failure; the key is kept unless "
        "--rotate-key or key.rotate_on_renewal. A one-off: the run history keeps it as completed or failed, and "
        "the backoff does not hold it back",
    )
    p.add_argument("--rotate-key", action="store_true", help="with --renew-now: renew with a new key")
    p.add_argument(
        "--lock-timeout", type=seconds, default=60.0, metavar="SECONDS",
        help="how long to wait for another run's lock (default: 60)",
    )
    p.add_argument(
        "--jitter", type=duration, metavar="DURATION",
        help="first sleep a random time between 0 and DURATION (30m, 1h, 45s), before reading the desired "
        "state and taking the lock, so that a fleet started by the same cron minute spreads its calls to the "
        "tenant; ignored with --dry-run",
    )
    p.add_argument(
        "--metrics-file", type=Path, metavar="PATH",
        help="write a Prometheus node-exporter textfile (e.g. /var/lib/prometheus/node-exporter/tedge-cert.prom) "
        "at the end of every run, success or not; not with --dry-run",
    )
    p.add_argument(
        "--log-format", choices=("text", "json"), default="text",
        help="stderr as text lines, or as one JSON object per line for log shippers (default: text)",
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv for protocol detail)")
    p.add_argument("--version", action="version", version=f"reconcile {__version__}")
    return p


def _emit(report, output: str) -> int:
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
    def progress(result):
        action = result.action
        text = render_progress(result) if output == "text" else None
        logs.emit(text, level=_LEVELS.get(result.status, "info"), event="action", message=action.message,
                  action=action.kind.value, reason=action.reason.value, status=result.status,
                  detail=result.detail, target=None if action.target is None else str(action.target))

    return progress


def _sleep_jitter(args) -> None:
    def announce(seconds: float) -> None:
        if args.verbose:
            logs.emit(f"reconcile: waiting {seconds:.0f}s before the run (--jitter)", event="jitter",
                      sleep_s=round(seconds, 1))

    sleep_jitter(args.jitter, before_sleep=announce)


def renewal_request(args) -> RenewalRequest | None:
    """--renew-now [--rotate-key] as the engine's request; --rotate-key alone is a usage error."""
    if args.rotate_key and not args.renew_now:
        raise BadInput("reconcile: --rotate-key needs --renew-now (see --help)")
    return RenewalRequest(rotate_key=args.rotate_key) if args.renew_now else None


def run(args) -> int:
    if args.jitter and not args.dry_run:
        _sleep_jitter(args)  # before the desired state is read, so that the run uses what is current then
    spec = report = code = None
    try:
        stamp = NoStamp() if args.dry_run else StampKeeper(desired_state_path(args.config_dir, args.file),
                                                            config_dir_from(args.config_dir))  # before the spec is read
        spec = load_spec(args.config_dir, args.file)
        logs.set_device(spec.device_id)
        report = reconcile(
            spec, dry_run=args.dry_run, lock_timeout=args.lock_timeout, progress=_progress(args.output), force=args.force,
            request=renewal_request(args),
            stamp=stamp,
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
            write_run_metrics(args.metrics_file, spec, report, code)
