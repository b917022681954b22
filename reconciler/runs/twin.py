"""The certificate's facts as a thin-edge twin: `te/device/main///twin/deviceCertificate`, retained,
which tedge-mapper-c8y turns into the `deviceCertificate` fragment of the device's managed object.

Published after a run (not a dry run) when anything but `lastRun.time` changed, else at most once a
day, so that the tenant sees the tool is alive without 10,000 hourly timers writing its inventory
240,000 times a day. The digest and time of the last publication live in the run history. Nothing
secret is in it: certificate facts, run outcomes, reason codes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Callable

from reconciler import __version__
from reconciler.basics.errors import ReconcileError, Unreachable
from reconciler.basics.layout import state_file
from reconciler.basics.logs import warn
from reconciler.basics.timestamps import format_time, parse_time
from reconciler.c8y.mqtt_publish import LocalBroker, publish_retained
from reconciler.desired.model import DesiredState
from reconciler.runs.history_file import write_history
from reconciler.runs.run_history import RunHistory

TOOL_NAME = "tedge-cert-reconciler"
REPUBLISH_EVERY = timedelta(days=1)
DEADLINE = "twin"  # the name of the daily publication among the report's deadlines (the stamp's answer_until)

Publisher = Callable[[LocalBroker, str, bytes], None]


def _epoch(text: str | None) -> int | None:
    return None if text is None else int(parse_time(text).timestamp())


def twin_document(certificate: dict, history: RunHistory) -> dict:
    """The twin's value from the live certificate's facts (runs/facts.py) and the run history."""
    last_run, failure = history.last_run, history.last_failure
    return {
        "serialNumber": certificate.get("serial"),
        "issuer": certificate.get("issuer"),
        "subject": certificate.get("subject"),
        "notBefore": certificate.get("not_before"),
        "notAfter": certificate.get("not_after"),
        "renewAt": certificate.get("renew_at"),
        "notAfterEpoch": _epoch(certificate.get("not_after")),
        "renewAtEpoch": _epoch(certificate.get("renew_at")),
        "keyAlgorithm": certificate.get("key_algorithm"),
        "lastRun": None if last_run is None else {
            "time": format_time(last_run.time), "status": last_run.status, "exitCode": last_run.exit_code,
        },
        "consecutiveFailures": history.consecutive_failures,
        "backoffUntil": None if history.backoff_until is None else format_time(history.backoff_until),
        "lastFailureReason": failure.reason if failure is not None and history.consecutive_failures else None,
        "tool": {"name": TOOL_NAME, "version": __version__},
    }


def twin_digest(document: dict) -> str:
    """A fingerprint of everything in the twin but `lastRun.time`: what makes a publication news."""
    steady = {**document, "lastRun": {k: v for k, v in (document.get("lastRun") or {}).items() if k != "time"}}
    return hashlib.sha256(json.dumps(steady, sort_keys=True).encode()).hexdigest()[:16]


def next_publication_due(history: RunHistory | None) -> datetime | None:
    """When an unchanged twin is next published (the daily sign of life); None: at the next run."""
    if history is None or history.twin_published is None or history.twin_digest is None:
        return None
    return history.twin_published + REPUBLISH_EVERY


def is_due(document: dict, history: RunHistory, now: datetime) -> bool:
    due = next_publication_due(history)
    return due is None or now >= due or history.twin_digest != twin_digest(document)


def local_broker(spec: DesiredState) -> LocalBroker:
    report = spec.report
    return LocalBroker(report.local_broker, report.ca_file, report.ca_dir, report.cert_file, report.key_file)


def publish_twin(spec: DesiredState, report, now: datetime, publish: Publisher = publish_retained) -> None:
    """Publish the twin after a recorded run if it is due (report.twin: auto|on), and record that in the
    history. A failure is a warning on the report (auto), or its error, exit 8 (on): the run's own work
    and history stand, and the next run tries again."""
    mode, history = spec.report.twin, report.history
    if mode == "off" or history is None:
        return
    certificate = (report.after or report.before or {}).get("certificate") or {}
    document = twin_document(certificate, history)
    if not is_due(document, history, now):
        report.deadlines[DEADLINE] = next_publication_due(history)  # a converged stamp answers until then
        return
    try:
        publish(local_broker(spec), spec.report.topic, json.dumps(document, separators=(",", ":")).encode())
    except Unreachable as err:
        message = f"the certificate twin was not published: {err.message}"
        if mode == "on" and report.failed is None:  # a run that failed already keeps its own error and exit code
            report.error = Unreachable(f"{message} (report.twin: on)")
        else:
            report.extra_warnings.append(f"{message} (report.twin: auto; the next run tries again)")
        return  # a warning or an error: no converged stamp, so the next run tries again
    published = history._replace(twin_digest=twin_digest(document), twin_published=now.replace(microsecond=0))
    try:
        write_history(state_file(spec.paths.cert), published)
    except ReconcileError as err:
        warn(f"cannot write the run history: {err.message}")
    report.history = published
    report.deadlines[DEADLINE] = next_publication_due(published)
