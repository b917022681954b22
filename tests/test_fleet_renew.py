"""`reconcile fleet renew` against the emulator: what it creates (counted on the tenant), --dry-run,
--wait with operations that another party (here the test) moves to their end, exit codes."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone

import pytest

from tests.fleet_cli import fleet, fragment


def _posts(tenant, path: str) -> list[dict]:
    return [json.loads(r.body) for r in tenant.requests if r.method == "POST" and r.path == path]


def _executor(tenant, outcome, stop: threading.Event):
    """Moves every PENDING operation to EXECUTING, then to outcome(device name) = (status, reason)."""
    def work():
        while not stop.is_set():
            for op in tenant.operations.select(status="PENDING"):
                tenant.operations.update(op["id"], {"status": "EXECUTING"})
                status, reason = outcome(op.get("deviceName"))
                tenant.operations.update(op["id"], {"status": status, **({"failureReason": reason} if reason else {}),
                                                    "c8y_RenewCertificate": {"result": f"renewed {op['deviceName']}"}})
            time.sleep(0.05)
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def executor(tenant):
    stop = threading.Event()
    yield lambda outcome: _executor(tenant, outcome, stop)
    stop.set()


def test_one_operation_per_named_device(tenant):
    tenant.seed_devices(3)
    result = fleet(tenant, "renew", "--device", "dev-00000", "dev-00002", "--rotate-key")
    assert result.returncode == 0, result.stderr
    posted = _posts(tenant, "/devicecontrol/operations")
    assert [p["deviceId"] for p in posted] == [tenant.inventory.by_external_id("c8y_Serial", d) for d in ("dev-00000", "dev-00002")]
    assert all(p["c8y_RenewCertificate"] == {"rotateKey": True} for p in posted)
    assert "dev-00000: operation" in result.stdout


def test_dry_run_creates_nothing_and_unknown_devices_exit_1(tenant):
    tenant.seed_devices(1)
    result = fleet(tenant, "renew", "--device", "dev-00000", "--dry-run")
    assert result.returncode == 0 and "would create c8y_RenewCertificate (rotateKey=false)" in result.stdout
    result = fleet(tenant, "renew", "--device", "dev-00000", "ghost-1")
    assert result.returncode == 1 and "ghost-1: not found on the tenant" in result.stdout
    assert len(_posts(tenant, "/devicecontrol/operations")) == 1  # the known device only


def test_wait_follows_to_the_end_and_summarises(tenant, executor):
    tenant.seed_devices(3)
    executor(lambda name: ("FAILED", "the tenant refused the CSR") if name == "dev-00001" else ("SUCCESSFUL", None))
    result = fleet(tenant, "renew", "--device", "dev-00000", "dev-00001", "dev-00002", "--wait", "--poll", "1s", "--output", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert (report["successful"], report["failed"], report["pending"]) == (2, 1, 0)
    failed = [op for op in report["operations"] if op["status"] == "FAILED"]
    assert failed[0]["device"] == "dev-00001" and failed[0]["failure_reason"] == "the tenant refused the CSR"
    ok = json.loads(fleet(tenant, "renew", "--device", "dev-00000", "--wait", "--poll", "1s", "--output", "json").stdout)
    assert ok["operations"][0]["result"] == "renewed dev-00000"


def test_wait_goes_on_through_a_tenant_in_trouble(tenant, executor):
    tenant.seed_devices(1)
    tenant.fault("status", path="/devicecontrol/operations/50001", times=2, status=503)  # the first two polls
    executor(lambda name: ("SUCCESSFUL", None))
    result = fleet(tenant, "renew", "--device", "dev-00000", "--wait", "--poll", "1s", "--timeout", "30s")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("the tenant could not answer the read of operation 50001 (503)") == 1  # said once
    assert "1 successful, 0 failed, 0 still pending" in result.stdout
    reads = [r for r in tenant.requests if r.method == "GET" and r.path == "/devicecontrol/operations/50001"]
    assert len(reads) >= 3  # two answered 503, then the one that saw it end


def test_a_tenant_in_trouble_ends_a_command_with_exit_8_and_a_refusal_with_6(tenant):
    tenant.seed_devices(1)
    tenant.fault("status", path="/identity/externalIds/c8y_Serial/dev-00000", status=503)
    trouble = fleet(tenant, "renew", "--device", "dev-00000")
    assert trouble.returncode == 8 and "could not answer the look-up of dev-00000 (503)" in trouble.stderr
    tenant.fault("status", path="/identity/externalIds/c8y_Serial/dev-00000", status=422)
    refused = fleet(tenant, "renew", "--device", "dev-00000")
    assert refused.returncode == 6 and "refused the look-up of dev-00000 (422)" in refused.stderr
    assert _posts(tenant, "/devicecontrol/operations") == []


def test_wait_times_out_with_exit_7(tenant):
    tenant.seed_devices(1)
    result = fleet(tenant, "renew", "--device", "dev-00000", "--wait", "--poll", "1s", "--timeout", "2s")
    assert result.returncode == 7
    assert "0 successful, 0 failed, 1 still pending" in result.stdout


def test_expiring_devices_only(tenant):
    now = int(time.time())
    tenant.seed_devices(4, lambda n: fragment(f"dev-{n:05d}", now + (n * 20 + 5) * 86400))  # 5, 25, 45, 65 days
    result = fleet(tenant, "renew", "--expiring-within", "30d")
    assert result.returncode == 0, result.stderr
    names = [tenant.inventory.get(p["deviceId"])["name"] for p in _posts(tenant, "/devicecontrol/operations")]
    assert names == ["dev-00000", "dev-00001"]


def test_group_is_one_bulk_operation_then_retry_only_the_failed(tenant, executor):
    tenant.seed_devices(5)
    tenant.create_group("lab", [f"dev-{n:05d}" for n in range(5)])
    executor(lambda name: ("FAILED", "broken device") if name == "dev-00003" else ("SUCCESSFUL", None))
    result = fleet(tenant, "renew", "--group", "lab", "--ramp", "1s", "--wait", "--poll", "1s", "--output", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    (bulk,) = _posts(tenant, "/devicecontrol/bulkoperations")
    assert bulk["creationRamp"] == 1 and bulk["operationPrototype"]["c8y_RenewCertificate"] == {"rotateKey": False}
    assert tenant.inventory.get(bulk["groupId"])["name"] == "lab"
    assert (report["successful"], report["failed"]) == (4, 1) and report["general_status"] == "FAILED"
    assert [op["device"] for op in report["operations"] if op["status"] == "FAILED"] == ["dev-00003"]
    assert len(_posts(tenant, "/devicecontrol/operations")) == 0  # the tenant made the children, not the tool
    retry = fleet(tenant, "renew", "--retry-failed", report["bulk_operation"], "--wait", "--poll", "1s", "--output", "json")
    again = json.loads(retry.stdout)
    assert [op["device"] for op in again["operations"]] == ["dev-00003"]
    assert _posts(tenant, "/devicecontrol/bulkoperations")[1]["failedParentId"] == report["bulk_operation"]


def test_unknown_group_or_bulk_operation_is_bad_input(tenant):
    assert fleet(tenant, "renew", "--group", "nowhere").returncode == 3
    assert fleet(tenant, "renew", "--retry-failed", "12345").returncode == 3
    result = fleet(tenant, "renew", "--group", "x", "--device", "y")
    assert result.returncode == 3 and "not allowed with" in result.stderr


def test_retry_failed_of_another_kind_of_bulk_operation_sends_nothing(tenant):
    tenant.seed_devices(2)
    group = tenant.create_group("lab", ["dev-00000", "dev-00001"])
    restart = tenant.operations.create_bulk(
        {"groupId": group, "operationPrototype": {"description": "Restart", "c8y_Restart": {}}},
        [], datetime.now(timezone.utc), 0.0)
    before = len(_posts(tenant, "/devicecontrol/bulkoperations"))
    for args in ([], ["--dry-run"]):
        result = fleet(tenant, "renew", "--retry-failed", restart["id"], *args)
        assert result.returncode == 3 and "not a c8y_RenewCertificate operation" in result.stderr, result.stderr
    assert len(_posts(tenant, "/devicecontrol/bulkoperations")) == before  # no restart sent again


def test_a_device_with_an_open_renewal_gets_no_second_one(tenant):
    tenant.seed_devices(2)
    first = fleet(tenant, "renew", "--device", "dev-00000")
    assert first.returncode == 0, first.stderr
    again = fleet(tenant, "renew", "--device", "dev-00000", "dev-00001", "--output", "json")
    assert again.returncode == 0, again.stderr
    assert "dev-00000: operation 50001 is already PENDING; none created" in again.stderr
    assert len(_posts(tenant, "/devicecontrol/operations")) == 2  # dev-00000 once, dev-00001 once
    assert [op["device"] for op in json.loads(again.stdout)["operations"]] == ["dev-00000", "dev-00001"]
    listed = [r.query for r in tenant.requests if r.method == "GET" and r.path == "/devicecontrol/operations"]
    assert any("fragmentType=c8y_RenewCertificate" in q and "status=PENDING" in q for q in listed)


def test_a_group_member_with_an_open_renewal_is_named_before_the_bulk_reaches_it(tenant):
    tenant.seed_devices(3)
    tenant.create_group("lab", ["dev-00000", "dev-00001", "dev-00002"])
    assert fleet(tenant, "renew", "--device", "dev-00001").returncode == 0
    shown = fleet(tenant, "renew", "--group", "lab", "--dry-run", "--output", "json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["already_open"] == ["dev-00001"]
    assert "dev-00001: operation 50001 is already PENDING; the bulk operation gives it a second one" in shown.stderr
    assert _posts(tenant, "/devicecontrol/bulkoperations") == []
    done = fleet(tenant, "renew", "--group", "lab", "--ramp", "0s")
    assert done.returncode == 0, done.stderr
    assert "dev-00001: operation 50001 is already PENDING" in done.stdout
    assert "dev-00000" not in done.stdout and "dev-00002" not in done.stdout
    assert len(_posts(tenant, "/devicecontrol/bulkoperations")) == 1
