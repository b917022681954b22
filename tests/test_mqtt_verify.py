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
    # The device trusts a second CA the broker does not: a certificate from it passes the chain
    # check (against tenant.ca_certificate) and only the test connection can refuse it.
    trusted = tmp_path / "trusted-cas.pem"
    trusted.write_bytes(tenant.ca.certificate_pem + tenant.foreign_ca().certificate_pem)
    converged_device(tmp_path, age=timedelta(days=340), ca=tenant.ca)
    device = make_device(
        tmp_path, tenant,
        tenant={"mqtt": cloud_broker.address, "ca_certificate": str(trusted)},
        activation={"strategy": "command", "command": ["touch", str(marker)], "verify": "mqtt"},
    )
    before = device.live()
    tenant.fault("foreign-ca", path="simplereenroll")
    result = device.run()
    assert result.returncode == 1, result.stderr
    assert "[ok] verify_candidate" in result.stderr and "not verified" not in result.stdout + result.stderr
    assert "closed the connection before accepting the candidate certificate" in result.stderr
    assert device.live() == before and not marker.exists()
    assert device.candidate.exists(), "the staged candidate stays for inspection"
    assert not tenant.requests_to("cacerts")


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
