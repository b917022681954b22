"""The Prometheus node-exporter textfile (`--metrics-file`): rendered and written with the standard
library only, by the full engine (reconciler.runs.metrics_file) and by the answer from the stamp."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from reconciler.basics.atomic_files import write_atomic
from reconciler.basics.timestamps import parse_time

FILE_MODE = 0o644


def _label(value: str) -> str:
    """A label value in the exposition format: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _seconds(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp())


class _Family:
    """One metric family: HELP and TYPE once, then its samples."""

    def __init__(self, name: str, help_text: str):
        self.lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        self.name = name

    def sample(self, labels: dict[str, str], value: int) -> _Family:
        text = ",".join(f'{key}="{_label(str(val))}"' for key, val in labels.items())
        self.lines.append(f"{self.name}{{{text}}} {value}")
        return self


def render_metrics(device_id: str, certificate: dict | None, history, finished: datetime, exit_code: int) -> str:
    """The textfile. `certificate` is the certificate's facts (reconciler.runs.facts.cert_facts; its
    metrics are left out while it cannot be read), `history` the run history or None (anything with
    last_success, consecutive_failures and backoff_until)."""
    device = {"device_id": device_id}
    families = []
    if certificate and certificate.get("not_after"):
        families += [
            _Family("tedge_cert_not_before_timestamp_seconds", "Start of the device certificate's validity (Unix time).")
            .sample(device, _seconds(parse_time(certificate["not_before"]))),
            _Family("tedge_cert_not_after_timestamp_seconds", "End of the device certificate's validity (Unix time).")
            .sample(device, _seconds(parse_time(certificate["not_after"]))),
            _Family("tedge_cert_renewal_timestamp_seconds", "When the device certificate falls due for renewal (Unix time).")
            .sample(device, _seconds(parse_time(certificate["renew_at"]))),
            _Family("tedge_cert_info", "The device certificate in use; the value is always 1.")
            .sample({**device, "serial": certificate["serial"], "issuer": certificate["issuer"]}, 1),
        ]
    families += [
        _Family("tedge_cert_reconcile_last_run_timestamp_seconds", "When the last reconcile run ended (Unix time).")
        .sample(device, _seconds(finished)),
        _Family("tedge_cert_reconcile_last_exit_code", "Exit code of the last reconcile run (0: converged).")
        .sample(device, exit_code),
    ]
    if history is not None:
        families += [
            _Family("tedge_cert_reconcile_last_success_timestamp_seconds",
                    "When a reconcile run last converged (Unix time; 0: never).")
            .sample(device, _seconds(history.last_success)),
            _Family("tedge_cert_reconcile_consecutive_failures", "Reconcile runs that failed or were blocked since the last success.")
            .sample(device, history.consecutive_failures),
            _Family("tedge_cert_reconcile_backoff_until_timestamp_seconds",
                    "No tenant request before this time (Unix time; 0: no backoff).")
            .sample(device, _seconds(history.backoff_until)),
        ]
    return "".join(line + "\n" for family in families for line in family.lines)


def write_metrics(path: Path, text: str) -> None:
    """Replace the file in one step: the node exporter reads the old or the new file, never a mix
    (the temporary file's name does not end in .prom, so the exporter skips it)."""
    write_atomic(path, text.encode(), FILE_MODE)
