"""`reconcile operation renew|activate|check`: the steps of thin-edge's certificate_renew workflow
(runs/renew_operation.py), answering in the workflow's convention: a JSON object between
`:::begin-tedge:::` and `:::end-tedge:::` on stdout, merged by the agent into the command."""

from __future__ import annotations

import argparse
import json
import os
import sys

from reconciler.basics.errors import BadInput, ExitCode, ReconcileError
from reconciler.cli.arguments import add_desired_state_options, command_parser, seconds
from reconciler.desired.source import desired_state_path, load_spec
from reconciler.desired.tedge_toml import config_dir_from
from reconciler.planning.model import Kind, RenewalRequest
from reconciler.runs.engine import reconcile
from reconciler.runs.renew_operation import check_live, run_marker
from reconciler.runs.report import render_text, summary
from reconciler.runs.stamp_keeper import StampKeeper

HELP = """\
The steps of the thin-edge workflow certificate_renew (installed by `reconcile install-operation`),
run by tedge-agent for the Cumulocity operation c8y_RenewCertificate:

  renew     renew now (the key kept, or rotated with --rotate-key=true) and stage <cert>.new;
            refused while another reconcile holds the lock (--lock-timeout, default 0)
  activate  an ordinary run: back up, swap and activate the staged certificate (rollback on failure)
  check     wait until the staged certificate (--serial) is live, or a later run failed; publish the twin

Each prints its result for the workflow between :::begin-tedge::: and :::end-tedge::: on stdout:
on success the fields for the next step (renew: stagedSerial, stagedNotAfter, stagedRun; check:
result, serial, notAfter), on failure {"reason": "<the engine's one-line message>"}.
Under sudo (SUDO_USER set) -f and --config-dir are refused: root reads only the default desired state.
"""

EPILOG = """\
exit codes:
  0  done (renew: staged; check: the certificate is live)
  1  failed (check: the certificate did not go live; the reason says why)
  3  bad input;  4 blocked;  5 locked: another reconcile holds the lock;  6, 7, 8 as `reconcile`"""

BEGIN, END = ":::begin-tedge:::", ":::end-tedge:::"


def parser() -> argparse.ArgumentParser:
    p = command_parser("reconcile operation", HELP, EPILOG)
    p.add_argument("step", choices=("renew", "activate", "check"), help="the workflow step")
    add_desired_state_options(p)
    p.add_argument("--rotate-key", default="", metavar="true|false",
                   help="renew: with a new key; the workflow passes ${.payload.rotateKey} (empty = false)")
    p.add_argument("--lock-timeout", type=seconds, metavar="SECONDS",
                   help="wait this long for another run's lock (renew: 0, i.e. refuse; activate: 120)")
    p.add_argument("--serial", default="", help="check: the serial of the staged certificate (stagedSerial)")
    p.add_argument("--after-run", default="", help="check: the run that staged it (stagedRun)")
    p.add_argument("--timeout", type=seconds, default=300.0, metavar="SECONDS",
                   help="check: how long to wait for the activation (default 300)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="log more")
    return p


def answer(fields: dict) -> None:
    """The workflow's output convention: merged into the command's payload by the agent."""
    sys.stdout.write(f"{BEGIN}\n{json.dumps(fields)}\n{END}\n")
    sys.stdout.flush()


def _rotate(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("", "true", "false"):
        raise BadInput(f"--rotate-key: expected true or false, got {text[:40]!r}")
    return value == "true"


def _renew(spec, args) -> int:
    request = RenewalRequest(rotate_key=_rotate(args.rotate_key))
    lock_timeout = 0.0 if args.lock_timeout is None else args.lock_timeout
    report = reconcile(spec, dry_run=False, lock_timeout=lock_timeout, request=request, stage_only=True,
                       stamp=args.stamp)
    staged = ((report.after or {}).get("candidate") or {})
    done = {r.action.kind for r in report.outcome.results if r.status == "done"} if report.outcome else set()
    if report.exit_code() != 0 or Kind.STAGE not in done or not staged.get("serial"):
        reason = summary(report) if report.exit_code() != 0 else f"nothing was renewed: {report.plan.message}"
        answer({"reason": reason})
        return report.exit_code() or int(ExitCode.ERROR)
    answer({"stagedSerial": staged["serial"], "stagedNotAfter": staged["not_after"], "rotateKey": request.rotate_key,
            "stagedRun": run_marker(report.history)})
    return 0


def _activate(spec, args) -> int:
    lock_timeout = 120.0 if args.lock_timeout is None else args.lock_timeout
    report = reconcile(spec, dry_run=False, lock_timeout=lock_timeout, stamp=args.stamp)
    sys.stdout.write(render_text(report))  # a background step: only the agent's log sees it; check judges
    return report.exit_code()


def _check(spec, args) -> int:
    if not args.serial:
        raise BadInput("--serial: the staged certificate's serial is needed (stagedSerial from the renew step)")
    outcome = check_live(spec, args.serial, args.after_run, args.timeout)
    if not outcome.ok:
        answer({"reason": outcome.message})
        return int(ExitCode.ERROR)
    cert = outcome.certificate
    answer({"result": f"certificate serial {cert['serial']} valid until {cert['not_after']} (renewal due {cert['renew_at']})",
            "serial": cert["serial"], "notAfter": cert["not_after"], "renewAt": cert["renew_at"]})
    return 0


STEPS = {"renew": _renew, "activate": _activate, "check": _check}


def run(args) -> int:
    try:
        if os.environ.get("SUDO_USER") and (args.file or args.config_dir):
            raise BadInput("reconcile operation: under sudo -f and --config-dir are refused (root reads the default desired state)")
        # the converged stamp is forgotten by a run that changes something, and kept by one that finds nothing to do
        args.stamp = StampKeeper(desired_state_path(args.config_dir, args.file), config_dir_from(args.config_dir))
        spec = load_spec(args.config_dir, args.file)
        return STEPS[args.step](spec, args)
    except ReconcileError as err:  # the workflow's reason: the one-line message, as `reconcile` prints it
        answer({"reason": err.message})
        raise
    except Exception as err:  # a bug: the operation still fails with a reason the tenant shows
        answer({"reason": f"internal error: {type(err).__name__}: {err} (a bug: please report it)"})
        raise
