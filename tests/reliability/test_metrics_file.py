"""--metrics-file: a Prometheus node-exporter textfile at the end of every run, read back with
prometheus_client's own parser and checked against the certificate and the run history."""

from __future__ import annotations

import fcntl
import time
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID
from prometheus_client.parser import text_string_to_metric_families

from c8y_emulator.ca import CertificateAuthority
from reconciler.basics.layout import lock_file, state_file
from reconciler.runs.history_file import read_history
from reconciler.x509.facts import certificate_info
from tests.device_files import converged_device, write_state
from tests.reconcile_cli import UNREACHABLE_TENANT, run

DAY = timedelta(days=1)


def _metrics(path: Path) -> dict[str, dict]:
    """{metric name: {"labels": …, "value": …, "help": …}}: each family here has one sample."""
    out = {}
    for family in text_string_to_metric_families(path.read_text()):
        assert family.type == "gauge" and family.documentation, family.name
        [sample] = family.samples
        out[family.name] = {"labels": sample.labels, "value": sample.value}
    return out


def _run(device_dir: Path, metrics: Path, *extra, state: Path | None = None):
    state = state or write_state(device_dir)
    return run("-f", str(state), "--config-dir", str(device_dir), "--metrics-file", str(metrics), *extra)


def _certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_a_converged_run_describes_the_certificate_and_the_run(device_dir):
    _, cert_path = converged_device(device_dir, age=10 * DAY)
    metrics = device_dir / "node-exporter" / "tedge-cert.prom"
    started = time.time()
    result = _run(device_dir, metrics)
    assert result.returncode == 0, result.stderr
    cert = _certificate(cert_path)
    found = _metrics(metrics)
    assert {m["labels"]["device_id"] for m in found.values()} == {"gw-0001"}
    not_after = cert.not_valid_after_utc.timestamp()
    assert found["tedge_cert_not_after_timestamp_seconds"]["value"] == not_after
    assert found["tedge_cert_not_before_timestamp_seconds"]["value"] == cert.not_valid_before_utc.timestamp()
    assert found["tedge_cert_renewal_timestamp_seconds"]["value"] == not_after - (30 * DAY).total_seconds()
    info = found["tedge_cert_info"]
    assert info["value"] == 1
    assert info["labels"]["serial"] == format(cert.serial_number, "x")
    assert info["labels"]["issuer"] == certificate_info(cert).issuer == "CN=management,O=Cumulocity,C=United States"
    history = read_history(state_file(cert_path))
    last_run = found["tedge_cert_reconcile_last_run_timestamp_seconds"]["value"]
    assert int(started) <= last_run <= time.time()
    assert found["tedge_cert_reconcile_last_success_timestamp_seconds"]["value"] == history.last_success.timestamp()
    assert found["tedge_cert_reconcile_last_exit_code"]["value"] == 0
    assert found["tedge_cert_reconcile_consecutive_failures"]["value"] == 0
    assert found["tedge_cert_reconcile_backoff_until_timestamp_seconds"]["value"] == 0


def test_failed_runs_count_and_leave_out_a_certificate_that_is_not_there(device_dir):
    (device_dir / "otp").write_text("one-time-pass\n")
    metrics = device_dir / "tedge-cert.prom"
    state = write_state(device_dir, **UNREACHABLE_TENANT)
    for failures in (1, 2):
        result = _run(device_dir, metrics, "--force", state=state)  # the second past the backoff
        assert result.returncode == 8, result.stderr
        found = _metrics(metrics)
        assert found["tedge_cert_reconcile_consecutive_failures"]["value"] == failures
    assert found["tedge_cert_reconcile_last_exit_code"]["value"] == 8
    assert found["tedge_cert_reconcile_last_success_timestamp_seconds"]["value"] == 0
    assert not any(name.startswith("tedge_cert_not_") or name == "tedge_cert_info" for name in found)
    waiting = _run(device_dir, metrics, state=state)
    assert waiting.returncode == 9, waiting.stderr
    found = _metrics(metrics)
    assert found["tedge_cert_reconcile_last_exit_code"]["value"] == 9
    assert found["tedge_cert_reconcile_consecutive_failures"]["value"] == 2  # waiting is not failing
    assert found["tedge_cert_reconcile_backoff_until_timestamp_seconds"]["value"] > time.time() + 3600


def test_a_locked_run_still_reports_the_certificate_and_its_own_exit_code(device_dir):
    _, cert_path = converged_device(device_dir)
    metrics = device_dir / "tedge-cert.prom"
    assert _run(device_dir, metrics).returncode == 0
    with open(lock_file(cert_path), "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = _run(device_dir, metrics, "--lock-timeout", "0.2")
    assert result.returncode == 5
    found = _metrics(metrics)
    assert found["tedge_cert_reconcile_last_exit_code"]["value"] == 5
    assert found["tedge_cert_not_after_timestamp_seconds"]["value"] == _certificate(cert_path).not_valid_after_utc.timestamp()
    assert found["tedge_cert_reconcile_consecutive_failures"]["value"] == 0  # the earlier run's history


def test_bad_input_writes_what_is_known(device_dir):
    state = device_dir / "state.yaml"
    state.write_text("device_id: gw-0001\nkey: {algorithm: dsa}\n")
    metrics = device_dir / "tedge-cert.prom"
    result = _run(device_dir, metrics, state=state)
    assert result.returncode == 3
    found = _metrics(metrics)
    assert found["tedge_cert_reconcile_last_exit_code"] == {"labels": {"device_id": ""}, "value": 3}
    assert set(found) == {"tedge_cert_reconcile_last_exit_code", "tedge_cert_reconcile_last_run_timestamp_seconds"}


def test_a_dry_run_writes_no_metrics(device_dir):
    converged_device(device_dir)
    metrics = device_dir / "tedge-cert.prom"
    assert _run(device_dir, metrics, "--dry-run").returncode == 0
    assert not metrics.exists()


def test_label_values_are_escaped(device_dir):
    awkward = 'Lab "North" \\ Wing\nTwo'
    ca = CertificateAuthority(name=x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, awkward),
                                               x509.NameAttribute(NameOID.COMMON_NAME, "management")]))
    _, cert_path = converged_device(device_dir, ca=ca)
    metrics = device_dir / "tedge-cert.prom"
    assert _run(device_dir, metrics).returncode == 0
    issuer = _metrics(metrics)["tedge_cert_info"]["labels"]["issuer"]
    assert issuer == certificate_info(_certificate(cert_path)).issuer
    assert all(awkward_character in issuer for awkward_character in ('"', "\\", "\n"))


def test_a_metrics_file_that_cannot_be_written_is_a_warning_not_a_failure(device_dir):
    converged_device(device_dir)
    blocked = device_dir / "tedge-cert.prom"
    blocked.mkdir()  # a directory where the file should go
    result = _run(device_dir, blocked)
    assert result.returncode == 0
    assert f"reconcile: warning: cannot write the metrics file: {blocked} is a directory" in result.stderr
