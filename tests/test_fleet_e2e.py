"""End to end from the tenant: `reconcile fleet renew` creates c8y_RenewCertificate operations on the
emulated tenant; per device, the mapper stand-in turns each into a thin-edge command on the device's
own mosquitto, the agent stand-in runs the installed certificate_renew workflow (`reconcile operation`),
and the operation ends SUCCESSFUL (new certificate live, new notAfterEpoch in the inventory) or FAILED
with the engine's reason."""

from __future__ import annotations

import json

import pytest

from reconciler.x509.facts import certificate_info, load_certificates
from tests.fleet_cli import fleet
from tests.fleet_devices import FleetDevice
from tests.waiting import until

THROUGH_THE_STAND_INS = 30.0  # seconds: a run, the agent, the mapper and the broker in turn


def _certificate(device: FleetDevice):
    return certificate_info(load_certificates(device.device.cert.read_bytes())[0])


def _fragment(tenant, device: FleetDevice) -> dict:
    return tenant.inventory.get(device.managed_object).get("deviceCertificate") or {}


@pytest.fixture
def devices(tmp_path, tenant):
    made = []

    def make(count: int) -> list[FleetDevice]:
        for n in range(count):
            made.append(FleetDevice(tmp_path / f"gw-{n:04d}", tenant, f"gw-{n:04d}"))
        for device in made:
            result = device.run()  # an ordinary run publishes the twin: the inventory shows the old certificate
            assert result.returncode == 0, result.stderr
        for device in made:
            until(lambda d=device: _fragment(tenant, d).get("serialNumber"), THROUGH_THE_STAND_INS,
                  what=f"{device.device_id}'s twin in the inventory")
            until(lambda d=device: tenant.inventory.get(d.managed_object).get("c8y_SupportedOperations") == ["c8y_RenewCertificate"],
                  THROUGH_THE_STAND_INS, what=f"{device.device_id}'s supported operations")
        return made

    yield make
    for device in made:
        device.stop()


def test_renew_one_device_from_the_tenant(tenant, devices):
    (device,) = devices(1)
    old = _certificate(device)
    old_epoch = _fragment(tenant, device)["notAfterEpoch"]
    result = fleet(tenant, "renew", "--device", device.device_id, "--wait", "--poll", "1s", "--output", "json", timeout=180)
    assert result.returncode == 0, result.stderr + json.dumps([d.mapper.log + d.agent.log for d in [device]])
    report = json.loads(result.stdout)
    (operation,) = report["operations"]
    assert operation["status"] == "SUCCESSFUL" and report["successful"] == 1
    assert tenant.operations.statuses(operation["operation"]) == ["PENDING", "EXECUTING", "SUCCESSFUL"]
    new = _certificate(device)
    assert new.serial != old.serial and new.subject_cn == device.device_id
    assert new.serial in operation["result"]
    fragment = until(lambda: _fragment(tenant, device) if _fragment(tenant, device).get("serialNumber") == new.serial else None,
                     THROUGH_THE_STAND_INS, what="the new certificate in the inventory")
    assert fragment["notAfterEpoch"] == int(new.not_after.timestamp()) != old_epoch
    history = tenant.operations.history[operation["operation"]]
    live = device.device.cert.stat().st_mtime
    print(f"operation created → certificate live: {live - history[0].at:.2f}s; "
          f"→ SUCCESSFUL: {history[-1].at - history[0].at:.2f}s")


def test_a_failing_tenant_ends_failed_with_a_readable_reason(tenant, devices):
    (device,) = devices(1)
    before = device.device.live()
    tenant.refuse_tokens = True
    result = fleet(tenant, "renew", "--device", device.device_id, "--wait", "--poll", "1s", timeout=180)
    assert result.returncode == 1, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith(f"{device.device_id}: operation") and "created" not in line)
    assert "FAILED — " in line and "refused the device certificate for a token (401)" in line, line
    assert "0 successful, 1 failed, 0 still pending" in result.stdout
    assert device.device.live() == before


def test_bulk_over_a_group_with_one_broken_device_then_retry_just_that_one(tenant, devices):
    fleet_devices = devices(5)
    tenant.create_group("lab", [d.device_id for d in fleet_devices])
    broken = fleet_devices[2]
    desired = broken.state.read_text()
    broken.state.write_text("device_id: [unclosed\n")
    before = {d.device_id: _certificate(d).serial for d in fleet_devices}
    result = fleet(tenant, "renew", "--group", "lab", "--ramp", "1s", "--wait", "--poll", "1s", "--output", "json", timeout=300)
    report = json.loads(result.stdout)
    assert result.returncode == 1, result.stderr
    assert (report["successful"], report["failed"], report["pending"]) == (4, 1, 0), report
    (failed,) = [op for op in report["operations"] if op["status"] == "FAILED"]
    assert failed["device"] == broken.device_id and "reconcile.yaml" in failed["failure_reason"], failed
    for device in fleet_devices:
        renewed = _certificate(device).serial != before[device.device_id]
        assert renewed == (device is not broken), device.device_id
    broken.state.write_text(desired)
    since = len(tenant.requests)
    retry = fleet(tenant, "renew", "--retry-failed", report["bulk_operation"], "--wait", "--poll", "1s", "--output", "json", timeout=180)
    again = json.loads(retry.stdout)
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert [op["device"] for op in again["operations"]] == [broken.device_id] and again["successful"] == 1
    assert _certificate(broken).serial != before[broken.device_id]
    (posted,) = [json.loads(r.body) for r in tenant.requests[since:] if r.method == "POST" and r.path == "/devicecontrol/bulkoperations"]
    assert posted["failedParentId"] == report["bulk_operation"]
