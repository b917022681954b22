"""The few tedge.toml settings the reconciler honours, with thin-edge's documented defaults.

Addresses (c8y.url, c8y.http, c8y.mqtt, the proxy and broker hosts) are checked as they are read,
as the desired state's are: a bad one is refused naming the file and key, whichever source wins."""

import os
import sys
from pathlib import Path
from typing import NamedTuple

from reconciler.basics.errors import BadInput
from reconciler.basics.limits import MAX_TEDGE_TOML_BYTES
from reconciler.basics.safe_read import FileRefused, read_regular
from reconciler.basics.urls import check_host, split_endpoint, tenant_url

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

DEFAULT_CONFIG_DIR = Path("/etc/tedge")
CONFIG_DIR_ENV = "TEDGE_CONFIG_DIR"


class TedgeConfig(NamedTuple):
    """Values read from tedge.toml; None where the file does not set them."""

    config_dir: Path
    c8y_url: str | None = None
    c8y_http: str | None = None
    c8y_mqtt: str | None = None
    key_path: Path | None = None
    cert_path: Path | None = None
    csr_path: Path | None = None
    organization: str | None = None
    organization_unit: str | None = None
    requested_duration: str | None = None
    minimum_duration: str | None = None
    proxy_host: str | None = None
    proxy_port: int | None = None
    proxy_cert_path: str | None = None
    mqtt_client_host: str | None = None
    mqtt_client_port: int | None = None
    mqtt_topic_root: str | None = None
    mqtt_device_topic_id: str | None = None
    mqtt_ca_file: Path | None = None
    mqtt_ca_dir: Path | None = None
    mqtt_cert_file: Path | None = None
    mqtt_key_file: Path | None = None

    @property
    def device_certs_dir(self) -> Path:
        return self.config_dir / "device-certs"


def config_dir_from(option: str | None) -> Path:
    """--config-dir, else $TEDGE_CONFIG_DIR, else /etc/tedge."""
    return Path(option or os.environ.get(CONFIG_DIR_ENV) or DEFAULT_CONFIG_DIR)


def _get(table: dict, dotted: str):
    node = table
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _text(table: dict, dotted: str, where: Path) -> str | None:
    value = _get(table, dotted)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadInput(f"{where}: {dotted}: expected a string, got {type(value).__name__}")
    return str(value)


def _checked(table: dict, dotted: str, where: Path, check) -> str | None:
    """A string setting that `check` (from urls.py) accepts; BadInput naming the file and key otherwise."""
    value = _text(table, dotted, where)
    if value is None:
        return None
    try:
        check(value)
    except ValueError as err:
        raise BadInput(f"{where}: {dotted}: {err}") from None
    return value


def _port(table: dict, dotted: str, where: Path) -> int | None:
    value = _get(table, dotted)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise BadInput(f"{where}: {dotted}: expected a port number, got {value!r}")
    return value


def load_tedge_config(config_dir: Path) -> TedgeConfig:
    """Read `<config_dir>/tedge.toml`; a missing file means thin-edge's defaults."""
    path = config_dir / "tedge.toml"
    try:
        raw = read_regular(path, MAX_TEDGE_TOML_BYTES)
    except FileNotFoundError:
        return TedgeConfig(config_dir=config_dir)
    except FileRefused as err:
        raise BadInput(f"{err}; expected thin-edge's configuration") from None
    except OSError as err:
        raise BadInput(f"{path}: cannot read: {err.strerror}") from None
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as err:  # TOMLDecodeError, UnicodeDecodeError, 5000-digit ints, deep nesting
        raise BadInput(f"{path}: not valid TOML: {err}") from None

    def path_of(key: str) -> Path | None:
        text = _text(table, key, path)
        return Path(text) if text else None

    return TedgeConfig(
        config_dir=config_dir,
        c8y_url=_checked(table, "c8y.url", path, tenant_url),
        c8y_http=_checked(table, "c8y.http", path, tenant_url),
        c8y_mqtt=_checked(table, "c8y.mqtt", path, lambda value: split_endpoint(value, 8883)),
        key_path=path_of("device.key_path"),
        cert_path=path_of("device.cert_path"),
        csr_path=path_of("device.csr_path"),
        organization=_text(table, "certificate.organization", path),
        organization_unit=_text(table, "certificate.organization_unit", path),
        requested_duration=_text(table, "certificate.validity.requested_duration", path),
        minimum_duration=_text(table, "certificate.validity.minimum_duration", path),
        proxy_host=_checked(table, "c8y.proxy.client.host", path, check_host),
        proxy_port=_port(table, "c8y.proxy.client.port", path),
        proxy_cert_path=_text(table, "c8y.proxy.cert_path", path),
        mqtt_client_host=_checked(table, "mqtt.client.host", path, check_host),
        mqtt_client_port=_port(table, "mqtt.client.port", path),
        mqtt_topic_root=_text(table, "mqtt.topic_root", path),
        mqtt_device_topic_id=_text(table, "mqtt.device_topic_id", path),
        mqtt_ca_file=path_of("mqtt.client.auth.ca_file"),
        mqtt_ca_dir=path_of("mqtt.client.auth.ca_dir"),
        mqtt_cert_file=path_of("mqtt.client.auth.cert_file"),
        mqtt_key_file=path_of("mqtt.client.auth.key_file"),
    )
