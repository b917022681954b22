"""`reconcile status`: the certificate, the last runs and the backoff, as an operator reads them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from reconciler.basics.layout import state_file
from reconciler.basics.timestamps import format_time
from reconciler.runs.history_file import write_history
from reconciler.runs.run_history import RunOutcome, after_run
from tests.device_files import converged_device, write_state
from tests.reconcile_cli import UNREACHABLE_TENANT, run


def _status(device_dir, *extra):
    return run("status", "--config-dir", str(device_dir), *extra)


def test_after_a_converged_run_it_shows_the_certificate_and_the_run(device_dir):
    converged_device(device_dir)
    state = write_state(device_dir)
    assert run("-f", str(state), "--config-dir", str(device_dir)).returncode == 0
    result = _status(device_dir, "-f", str(state))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "device:       gw-0001"
    assert "subject:      OU=Device,O=Thin Edge,CN=gw-0001" in lines
    last_run = next(line for line in lines if line.startswith("last run:"))
    assert last_run.endswith("converged (exit 0)")
    assert "failures:     0 in a row" in lines and "backoff:      none" in lines
    assert not any(line.startswith("last failure:") for line in lines)


def test_failures_show_their_count_reason_and_message_and_a_missing_certificate_exits_1(device_dir):
    (device_dir / "otp").write_text("one-time-pass\n")
    state = write_state(device_dir, **UNREACHABLE_TENANT)
    for _ in range(2):
        failed = run("-f", str(state), "--config-dir", str(device_dir), "--force")  # the second past the backoff
        assert failed.returncode == 8
    result = _status(device_dir, "-f", str(state), "--output", "json")
    assert result.returncode == 1
    status = json.loads(result.stdout)
    assert status["device_id"] == "gw-0001" and status["certificate"]["exists"] is False
    assert status["consecutive_failures"] == 2 and status["last_success"] is None
    assert status["last_run"]["status"] == "failed" and status["last_run"]["exit_code"] == 8
    failure = status["last_failure"]
    assert failure["reason"] == "enroll:unreachable" and failure["exit_code"] == 8
    assert failure["message"] in failed.stderr
    assert status["backoff_until"] is not None and status["backing_off"] is True
    text = _status(device_dir, "-f", str(state))
    assert text.returncode == 1 and "no such certificate" in text.stdout
    assert "failures:     2 in a row" in text.stdout and "enroll:unreachable (exit 8)" in text.stdout


def test_a_backoff_in_the_future_is_shown(device_dir):
    _, cert_path = converged_device(device_dir)
    now = datetime.now(timezone.utc)
    outcome = RunOutcome("failed", 8, "reenroll:unreachable", "the tenant could not be reached")
    until = (now + timedelta(hours=2)).replace(microsecond=0)
    history = after_run(None, "gw-0001", outcome, now)._replace(
        backoff_until=until, tenant_failures=2, backoff_reason="reenroll:unreachable")
    write_history(state_file(cert_path), history)
    result = _status(device_dir)
    assert (f"backoff:      no tenant request before {format_time(until)}, after 2 failed runs with the tenant "
            "(reenroll:unreachable)") in result.stdout
    status = json.loads(_status(device_dir, "--output", "json").stdout)
    assert status["backing_off"] is True and status["backoff_until"] == format_time(until)
    assert status["device_id"] == "gw-0001"  # from the history: no desired state was given


def test_a_past_backoff_is_none(device_dir):
    _, cert_path = converged_device(device_dir)
    past = datetime(2020, 1, 1, tzinfo=timezone.utc)
    outcome = RunOutcome("failed", 8, "reenroll:unreachable", "down")
    write_history(state_file(cert_path), after_run(None, "gw-0001", outcome, past)._replace(backoff_until=past))
    assert "backoff:      none" in _status(device_dir).stdout


def test_without_history_it_says_never(device_dir):
    converged_device(device_dir)
    result = _status(device_dir)
    assert result.returncode == 0 and "last run:     never (no run history)" in result.stdout


def test_a_corrupt_history_is_a_one_line_warning(device_dir):
    _, cert_path = converged_device(device_dir)
    state_file(cert_path).write_text("{not json")
    result = _status(device_dir)
    assert result.returncode == 0 and "last run:     never" in result.stdout
    assert result.stderr.count("\n") == 1 and "run history ignored (not JSON)" in result.stderr


def test_bad_input_exits_3(device_dir):
    state = device_dir / "state.yaml"
    state.write_text("device_id: [gw]\n")
    result = _status(device_dir, "-f", str(state))
    assert result.returncode == 3 and "device_id" in result.stderr and "Traceback" not in result.stderr
