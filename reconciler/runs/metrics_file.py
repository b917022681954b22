"""The state of the certificate and of the last runs as a Prometheus node-exporter textfile
(`--metrics-file`), written atomically at the end of every run, success or not."""

from __future__ import annotations

from pathlib import Path

from reconciler.basics.errors import ReconcileError
from reconciler.basics.layout import state_file
from reconciler.basics.logs import warn
from reconciler.basics.timestamps import utc_now
from reconciler.converged.metrics_text import render_metrics, write_metrics
from reconciler.device.observe import observe_cert
from reconciler.runs.facts import cert_facts
from reconciler.runs.history_file import read_history

__all__ = ["render_metrics", "write_metrics", "write_run_metrics"]


def write_run_metrics(path: Path, spec, report, exit_code: int) -> None:
    """The textfile of a run that ended with `exit_code`: from its report, or, for a run that ended
    before it had one (locked, interrupted), from a fresh look at the certificate and the run
    history; without a desired state (bad input) only the run's own metrics, with an empty
    device_id. A file that cannot be written is a warning, never a failure of the run."""
    certificate = history = None
    if report is not None:
        certificate = (report.after or report.before).get("certificate")
        history = report.history
    elif spec is not None:
        certificate = cert_facts(observe_cert(spec.paths.cert), spec.validity.renew_before, utc_now())
        history = read_history(state_file(spec.paths.cert))
    text = render_metrics("" if spec is None else spec.device_id, certificate, history, utc_now(), exit_code)
    try:
        write_metrics(path, text)
    except ReconcileError as err:  # atomic_files names the path and the reason
        warn(f"cannot write the metrics file: {err.message}")
