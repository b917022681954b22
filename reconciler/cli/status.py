"""`reconcile status`: the certificate and what the last runs did, from the run history."""

from __future__ import annotations

import argparse
import json
import sys

from reconciler.basics.errors import BadInput, ExitCode
from reconciler.basics.layout import state_file
from reconciler.basics.timestamps import format_time, utc_now
from reconciler.cli.arguments import add_desired_state_options, command_parser
from reconciler.cli.certificate_view import certificate_facts, certificate_problem, certificate_text
from reconciler.runs.history_codec import history_dict
from reconciler.runs.history_file import read_history
from reconciler.runs.history_view import backing_off
from reconciler.runs.run_history import RunHistory
from reconciler.runs.twin import next_publication_due
from reconciler.x509.tenant_ca import configured_trust

HELP = """\
Show the device certificate (as `reconcile show` does) and what the last runs did: the last run
and its outcome, the last success, the consecutive failures with the last failure's reason and
message, and the backoff state; and which tenant CA issued certificates are checked against
(tenant.ca_certificate, by SHA-256 fingerprint), or that they are not verified. The run history
is <cert dir>/.<cert name>.reconcile-state.json, written by every run that is not a dry run.
Reads only; contacts nothing; takes no lock.
"""

EPILOG = """\
exit codes:
  0  shown
  1  shown, but the certificate is missing or cannot be read
  3  bad input (desired state, tedge.toml, command line)"""


def parser() -> argparse.ArgumentParser:
    p = command_parser("reconcile status", HELP, EPILOG)
    add_desired_state_options(p)
    return p


def _history_lines(history, holding: bool) -> list[str]:
    if history is None or history.last_run is None:
        return ["last run:     never (no run history)"]
    run, failure = history.last_run, history.last_failure
    lines = [
        f"last run:     {format_time(run.time)} {run.status} (exit {run.exit_code})",
        f"last success: {format_time(history.last_success) if history.last_success else 'never'}",
        f"failures:     {history.consecutive_failures} in a row",
    ]
    if failure is not None:
        lines.append(f"last failure: {format_time(failure.time)} {failure.reason} (exit {failure.exit_code}): {failure.message}")
    if holding:
        lines.append(
            f"backoff:      no tenant request before {format_time(history.backoff_until)}, after {history.tenant_failures} "
            f"failed run{'s' if history.tenant_failures != 1 else ''} with the tenant ({history.backoff_reason}); --force asks now"
        )
    else:
        lines.append("backoff:      none")
    request = history.last_request
    if request is not None:
        lines.append(f"last request: {format_time(request.time)} renew now{' with a new key' if request.rotate_key else ''}: {request.status}")
    if history.twin_published is not None:
        lines.append(f"twin:         published {format_time(history.twin_published)}; unchanged, next at "
                     f"{format_time(next_publication_due(history))}")
    return lines


def _tenant_ca(spec) -> dict:
    """Which CA the desired state trusts for issued certificates (the report's `tenant_ca` shape)."""
    try:
        return configured_trust(spec.tenant.ca_certificate).as_dict()
    except BadInput as err:  # shown, as the certificate is: a run needing it would stop with exit 3
        return {"verified": False, "source": str(spec.tenant.ca_certificate), "fingerprints_sha256": [], "message": err.message}


def _tenant_ca_line(trust: dict) -> str:
    if trust["verified"]:
        return f"tenant CA:    {trust['source']} (SHA-256 {', '.join(trust['fingerprints_sha256'])})"
    return f"tenant CA:    not verified: {trust['message']}"


def run(args) -> int:
    source, facts = certificate_facts(args)
    spec = source.spec
    path = state_file(spec.paths.cert)
    history = read_history(path)
    backing_off_now = backing_off(history, spec, source.given, utc_now())
    problem = certificate_problem(facts)
    trust = _tenant_ca(spec)
    # without a desired state the device id is only a placeholder: the history knows better
    device_id = history.device_id if history is not None and not source.given else spec.device_id
    if args.output == "json":
        runs = history_dict(history or RunHistory(device_id))
        document = {**runs, "format": 1, "device_id": device_id, "certificate": facts, "state_file": str(path),
                    "backing_off": backing_off_now, "tenant_ca": trust}
        print(json.dumps(document, indent=2))
    else:
        head = f"certificate:  {problem}" if problem else certificate_text(facts, spec.validity.renew_before)
        print("\n".join([f"device:       {device_id}", head, _tenant_ca_line(trust), *_history_lines(history, backing_off_now),
                         f"state file:   {path}"]))
    if problem:
        print(f"reconcile: error: {problem}", file=sys.stderr)
        return int(ExitCode.ERROR)
    return int(ExitCode.OK)
