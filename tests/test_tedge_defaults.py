"""tedge.toml fills what the desired state leaves out; the desired state wins; no file = thin-edge defaults."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from reconciler.basics.errors import BadInput
from reconciler.desired.model import DesiredState
from reconciler.desired.resolve import resolve
from reconciler.desired.tedge_toml import config_dir_from, load_tedge_config

TEDGE_TOML = """
[device]
key_path = "/data/keys/device.key"
cert_path = "/data/keys/device.pem"
csr_path = "/data/keys/device.csr"

[c8y]
url = "acme.cumulocity.com"
mqtt = "mqtt.acme.cumulocity.com:8883"

[certificate]
organization = "ACME"
organization_unit = "Gateways"

[certificate.validity]
requested_duration = "90d"
minimum_duration = "7d"
"""


def _resolve(config_dir: Path, **desired):
    return resolve(DesiredState.model_validate({"device_id": "gw-1", **desired}), load_tedge_config(config_dir), config_dir)


def test_missing_tedge_toml_means_thin_edge_defaults(tmp_path):
    spec = _resolve(tmp_path)
    assert spec.paths.key == tmp_path / "device-certs" / "tedge-private-key.pem"
    assert spec.paths.cert == tmp_path / "device-certs" / "tedge-certificate.pem"
    assert spec.paths.csr == tmp_path / "device-certs" / "tedge.csr"
    assert spec.paths.backup_dir == tmp_path / "device-certs" / "backup"
    assert spec.subject.organization == "Thin Edge" and spec.subject.organizational_unit == "Device"
    assert spec.validity.requested == timedelta(days=365)
    assert str(spec.validity.renew_before) == "30d"
    assert spec.tenant.url is None


def test_tedge_toml_fills_the_gaps(tmp_path):
    (tmp_path / "tedge.toml").write_text(TEDGE_TOML)
    spec = _resolve(tmp_path)
    assert spec.paths.key == Path("/data/keys/device.key")
    assert spec.paths.cert == Path("/data/keys/device.pem")
    assert spec.paths.csr == Path("/data/keys/device.csr")
    assert spec.paths.backup_dir == Path("/data/keys/backup")
    assert spec.tenant.url == "https://acme.cumulocity.com"
    assert spec.tenant.mqtt == "mqtt.acme.cumulocity.com:8883"
    assert (spec.subject.organization, spec.subject.organizational_unit) == ("ACME", "Gateways")
    assert spec.validity.requested == timedelta(days=90)
    assert str(spec.validity.renew_before) == "7d"


def test_c8y_http_wins_over_c8y_url(tmp_path):
    (tmp_path / "tedge.toml").write_text('[c8y]\nurl = "a.example.com"\nhttp = "b.example.com"\n')
    assert _resolve(tmp_path).tenant.url == "https://b.example.com"


def test_desired_state_wins_over_tedge_toml(tmp_path):
    (tmp_path / "tedge.toml").write_text(TEDGE_TOML)
    spec = _resolve(
        tmp_path,
        tenant={"url": "other.example.com"},
        paths={"key": "keys/k.pem"},
        subject={"organization": "Mine"},
        validity={"renew_before": "25%"},
    )
    assert spec.tenant.url == "https://other.example.com"
    assert spec.tenant.mqtt == "mqtt.acme.cumulocity.com:8883"
    assert spec.paths.key == tmp_path / "keys" / "k.pem"  # relative to the desired-state file
    assert spec.subject.organization == "Mine"
    assert spec.subject.organizational_unit == "Gateways"
    assert str(spec.validity.renew_before) == "25%"


def test_mqtt_endpoint_defaults_to_tenant_host_port_8883(tmp_path):
    assert _resolve(tmp_path, tenant={"url": "https://t.example.com:8443/"}).tenant.mqtt == "t.example.com:8883"


def test_config_dir_option_env_default(monkeypatch):
    monkeypatch.setenv("TEDGE_CONFIG_DIR", "/from/env")
    assert config_dir_from("/from/option") == Path("/from/option")
    assert config_dir_from(None) == Path("/from/env")
    monkeypatch.delenv("TEDGE_CONFIG_DIR")
    assert config_dir_from(None) == Path("/etc/tedge")


def test_an_internationalised_tenant_host_is_an_address(tmp_path):
    spec = _resolve(tmp_path, tenant={"url": "https://bücher.example"})
    assert spec.tenant.url == "https://bücher.example"
    assert spec.tenant.mqtt == "bücher.example:8883"


def test_ipv6_addresses_keep_their_brackets_in_every_derived_address(tmp_path):
    (tmp_path / "tedge.toml").write_text('[c8y]\nurl = "[2001:db8::1]"\n[c8y.proxy.client]\nhost = "::1"\nport = 8002\n'
                                         '[mqtt.client]\nhost = "::1"\n')
    spec = _resolve(tmp_path)
    assert spec.tenant.url == "https://[2001:db8::1]"
    assert spec.tenant.mqtt == "[2001:db8::1]:8883"
    assert spec.renewal.token_url == "https://[2001:db8::1]:8443/devicecontrol/deviceAccessToken"
    assert spec.renewal.proxy_url == "http://[::1]:8002/c8y"
    assert spec.renewal.local_broker == "[::1]:1883"


def test_tedge_toml_addresses_are_checked_even_when_the_desired_state_names_its_own(tmp_path):
    """A bad c8y.url is a broken tedge.toml (thin-edge reads it too), whichever source wins."""
    (tmp_path / "tedge.toml").write_text('[c8y]\nurl = "not a url"\n')
    with pytest.raises(BadInput, match=r"tedge\.toml: c8y\.url: 'not a url' contains a space"):
        _resolve(tmp_path, tenant={"url": "other.example.com"})
