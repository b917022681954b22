"""activation.verify mqtt: the candidate must connect to the tenant's MQTT endpoint before the swap."""

from __future__ import annotations

from datetime import timedelta

from tests.device_files import converged_device
from tests.tenant_device import make_device


def _device(tmp_path, tenant, cloud_broker, marker):
    converged_device(tmp_path, age=timedelta(days=340), ca=tenant.ca)
    return make_device(
        tmp_path, tenant,
        tenant={"mqtt": cloud_broker.address},
        activation={"strategy": "command", "command": ["touch", str(marker)], "verify": "mqtt"},
    )


def test_candidate_that_connects_is_swapped_in_and_activated(tmp_path, tenant, cloud_broker):
    marker = tmp_path / "activated"
    device = _device(tmp_path, tenant, cloud_broker, marker)
    before = device.live()
    result = device.run()
    assert result.returncode == 0, result.stderr
    assert f"[ok] verify_connection [RenewalDue] Test-connecting to {cloud_broker.address}" in result.stderr
    assert device.live()[1] != before[1] and marker.exists()


def test_broker_refusing_the_candidate_keeps_the_live_pair(tmp_path, tenant, cloud_broker):
    marker = tmp_path / "activated"
    device = _device(tmp_path, tenant, cloud_broker, marker)
    before = device.live()
    # the broker trusts only the tenant CA; make the emulator issue from another CA and hide its CA list
    tenant.fault("foreign-ca", path="simplereenroll")
    tenant.fault("status", path="cacerts", status=404)
    result = device.run()
    assert result.returncode == 1, result.stderr
    assert "closed the connection before accepting the candidate certificate" in result.stderr
    assert device.live() == before and not marker.exists()
    assert device.candidate.exists(), "the staged candidate stays for inspection"


def test_unreachable_broker_keeps_the_live_pair(tmp_path, tenant):
    marker = tmp_path / "activated"
    converged_device(tmp_path, age=timedelta(days=340), ca=tenant.ca)
    device = make_device(
        tmp_path, tenant,
        tenant={"mqtt": "127.0.0.1:9"},
        activation={"strategy": "command", "command": ["touch", str(marker)], "verify": "mqtt"},
    )
    before = device.live()
    result = device.run()
    assert result.returncode == 1
    assert "test connection to 127.0.0.1:9 with the candidate failed" in result.stderr
    assert device.live() == before and not marker.exists()
