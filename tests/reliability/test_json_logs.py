"""--log-format json: every line on stderr is one JSON object a log shipper can read, and every run
ends with exactly one `result` line."""

from __future__ import annotations

import json
import os

from tests.device_files import converged_device, write_state
from tests.reconcile_cli import UNREACHABLE_TENANT, run
from tests.tenant_device import make_device

KEYS = {"time", "level", "event", "device_id", "action", "reason", "status", "message"}


def _lines(stderr: str) -> list[dict]:
    records = [json.loads(line) for line in stderr.splitlines()]
    for record in records:
        assert KEYS <= set(record), record
        assert record["time"].endswith("Z") and record["level"] in ("debug", "info", "warning", "error")
    assert [r["event"] for r in records].count("result") == 1 and records[-1]["event"] == "result"
    return records


def test_applied_actions_and_the_result_are_json_lines(device_dir):
    key_path, _ = converged_device(device_dir)
    os.chmod(key_path, 0o640)
    result = run("-f", str(write_state(device_dir)), "--config-dir", str(device_dir), "--log-format", "json")
    assert result.returncode == 0, result.stderr
    records = _lines(result.stderr)
    action = next(r for r in records if r["event"] == "action")
    assert action["action"] == "fix_permissions" and action["reason"] == "PermissionsDrift"
    assert action["status"] == "done" and action["level"] == "info" and action["device_id"] == "gw-0001"
    end = records[-1]
    assert end["status"] == "changed" and end["exit_code"] == 0 and end["message"].startswith("gw-0001: changed;")
    assert "changed; certificate serial" in result.stdout  # stdout stays as --output says


def test_a_failure_ends_with_an_error_line_and_no_text(device_dir):
    (device_dir / "otp").write_text("one-time-pass\n")
    state = write_state(device_dir, **UNREACHABLE_TENANT)
    result = run("-f", str(state), "--config-dir", str(device_dir), "--log-format", "json")
    assert result.returncode == 8
    records = _lines(result.stderr)
    actions = [r for r in records if r["event"] == "action"]
    assert [r["action"] for r in actions] == ["generate_key", "write_csr", "enroll"]
    failed = actions[-1]
    assert failed["action"] == "enroll" and failed["status"] == "failed" and failed["level"] == "error"
    end = records[-1]
    assert end["level"] == "error" and end["status"] == "failed" and end["exit_code"] == 8
    assert end["message"] == failed["detail"]


def test_a_blocked_run_names_its_blocker(device_dir):
    result = run("-f", str(write_state(device_dir)), "--config-dir", str(device_dir), "--log-format", "json")
    assert result.returncode == 4
    end = _lines(result.stderr)[-1]
    assert end["level"] == "warning" and end["status"] == "blocked" and end["reason"] == "OneTimePasswordMissing"


def test_bad_input_is_a_single_result_line(device_dir):
    state = device_dir / "state.yaml"
    state.write_text("device_id: gw-0001\nkey: {algorithm: dsa}\n")
    result = run("-f", str(state), "--config-dir", str(device_dir), "--log-format", "json")
    assert result.returncode == 3
    [end] = _lines(result.stderr)
    assert end["status"] == "failed" and end["exit_code"] == 3 and "key.algorithm" in end["message"]
    assert end["device_id"] is None


def test_waiting_for_the_registration_and_log_records_are_json_lines(tmp_path, tenant):
    tenant.register("gw-0001", "one-time-pass-0001", approved=False)
    device = make_device(tmp_path, tenant, enrollment={"retry_every": "1s", "max_wait": "2s"})
    result = device.run("--log-format", "json", "-v")
    assert result.returncode == 7
    records = _lines(result.stderr)
    waiting = [r for r in records if r["event"] == "waiting"]
    assert waiting and [r["attempt"] for r in waiting] == list(range(1, len(waiting) + 1))
    assert all(r["device_id"] == "gw-0001" and r["next_in_s"] >= 0 for r in waiting)
    logged = [r for r in records if r["event"] == "log"]
    assert any(r["logger"] == "reconciler.tenant" and "simpleenroll answered" in r["message"] for r in logged)
    assert records[-1]["exit_code"] == 7
