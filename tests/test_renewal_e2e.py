"""Renewal end to end: re-enrollment with a device token obtained each way, against the emulator."""

from __future__ import annotations

import json
from datetime import timedelta

from c8y_emulator.auth_proxy import AuthProxy
from c8y_emulator.token_responder import TokenResponder
from reconciler.basics.layout import list_backups
from reconciler.device.backup import CERT_FILE, KEY_FILE
from reconciler.x509.facts import certificate_info, load_certificates
from tests.device_files import converged_device, write_cert
from tests.tenant_device import make_device


def _due_device(tmp_path, tenant, **sections):
    """A device whose tenant-issued certificate is inside its renewal window."""
    converged_device(tmp_path, age=timedelta(days=340), ca=tenant.ca)
    return make_device(tmp_path, tenant, **sections)


def _assert_renewed_with_same_key(device, before):
    key, cert = device.live()
    assert key == before[0], "the key is kept on renewal"
    assert cert != before[1]
    info = certificate_info(load_certificates(cert)[0])
    assert info.subject_cn == "gw-0001" and info.not_before.year >= 2026
    (backup,) = list_backups(device.config_dir / "device-certs" / "backup")
    assert (backup / CERT_FILE).read_bytes() == before[1]


def test_renewal_with_device_token_over_mtls(tmp_path, tenant):
    device = _due_device(tmp_path, tenant, renewal={"auth": "device-token"})
    before = device.live()
    result = device.run("--output", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reasons"] == ["RenewalDue"]
    _assert_renewed_with_same_key(device, before)
    (reenroll,) = tenant.requests_to("simplereenroll")
    assert reenroll.headers["Authorization"] == "Bearer"
    assert device.run().returncode == 0 and len(tenant.requests_to("simplereenroll")) == 1


def test_renewal_through_the_tedge_auth_proxy(tmp_path, tenant):
    with AuthProxy(tenant, "gw-0001") as proxy:
        device = _due_device(tmp_path, tenant, renewal={"auth": "tedge-proxy", "proxy_url": proxy.url})
        before = device.live()
        result = device.run()
    assert result.returncode == 0, result.stderr
    _assert_renewed_with_same_key(device, before)


def test_renewal_with_token_over_local_mqtt(tmp_path, tenant, local_broker):
    with TokenResponder(tenant, "gw-0001", "127.0.0.1", local_broker.port) as responder:
        device = _due_device(tmp_path, tenant, renewal={"auth": "mqtt", "local_broker": local_broker.address})
        before = device.live()
        result = device.run()
    assert result.returncode == 0, result.stderr
    assert responder.requests == 1
    _assert_renewed_with_same_key(device, before)


def test_renewal_with_key_rotation(tmp_path, tenant):
    device = _due_device(tmp_path, tenant, key={"rotate_on_renewal": True})
    before = device.live()
    assert device.run().returncode == 0
    assert device.live()[0] != before[0]
    (backup,) = list_backups(device.config_dir / "device-certs" / "backup")
    assert (backup / KEY_FILE).read_bytes() == before[0]


def test_refused_device_token_ends_with_exit_6(tmp_path, tenant):
    tenant.refuse_tokens = True
    device = _due_device(tmp_path, tenant)
    before = device.live()
    result = device.run()
    assert result.returncode == 6
    assert "refused the device certificate for a token (401)" in result.stderr
    assert device.live() == before


def test_refused_jwt_at_reenroll_ends_with_exit_6(tmp_path, tenant, local_broker):
    with TokenResponder(tenant, "gw-0001", "127.0.0.1", local_broker.port):
        device = _due_device(tmp_path, tenant, renewal={"auth": "mqtt", "local_broker": local_broker.address})
        before = device.live()
        tenant.jwt_secret = b"rotated"  # tokens minted before this no longer verify
        tenant.refuse_tokens = True
        result = device.run()
    assert result.returncode == 6
    assert "refused the device token (401)" in result.stderr
    assert device.live() == before


def test_absent_mqtt_broker_ends_with_exit_8(tmp_path, tenant):
    device = _due_device(tmp_path, tenant, renewal={"auth": "mqtt", "local_broker": "127.0.0.1:9"})
    before = device.live()
    result = device.run()
    assert result.returncode == 8
    assert "cannot reach the local MQTT broker at 127.0.0.1:9" in result.stderr
    assert device.live() == before


def test_expired_certificate_enrolls_again_with_a_one_time_password(tmp_path, tenant):
    converged_device(tmp_path, age=timedelta(days=400), ca=tenant.ca)
    tenant.register("gw-0001", "one-time-pass-0001")
    device = make_device(tmp_path, tenant)
    before = device.live()
    result = device.run("--output", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reasons"] == ["Expired"]
    assert len(tenant.requests_to("simpleenroll")) == 1 and not tenant.requests_to("simplereenroll")
    assert device.live()[0] == before[0] and device.live()[1] != before[1]


def test_expired_certificate_without_a_one_time_password_is_blocked(tmp_path, tenant):
    converged_device(tmp_path, age=timedelta(days=400), ca=tenant.ca)
    device = make_device(tmp_path, tenant, otp=None)
    result = device.run()
    assert result.returncode == 4
    assert "Blocked [OneTimePasswordMissing]" in result.stdout
    assert not tenant.requests


def test_short_lived_certificates_are_renewed_in_their_last_third_only(tmp_path, tenant):
    tenant.set_lifetime(timedelta(hours=3))
    key_path, cert_path = converged_device(tmp_path, ca=tenant.ca)
    from reconciler.x509.facts import load_private_key

    write_cert(cert_path, load_private_key(key_path.read_bytes()), age=timedelta(hours=1), lifetime=timedelta(hours=3), ca=tenant.ca)
    device = make_device(tmp_path, tenant)
    assert device.run().returncode == 0
    assert not tenant.requests_to("simplereenroll"), "30d threshold on a 3h certificate falls back to its last hour"
    write_cert(cert_path, load_private_key(key_path.read_bytes()), age=timedelta(hours=2, minutes=5), lifetime=timedelta(hours=3), ca=tenant.ca)
    assert device.run().returncode == 0
    assert len(tenant.requests_to("simplereenroll")) == 1
    assert device.run().returncode == 0 and len(tenant.requests_to("simplereenroll")) == 1
