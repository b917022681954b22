"""Fill what the desired state leaves out from tedge.toml, then from thin-edge's defaults.

The desired state always wins. Relative paths are taken relative to the desired-state file.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.basics.durations import parse_duration
from reconciler.basics.errors import BadInput
from reconciler.basics.urls import join_host_port
from reconciler.desired.model import DesiredState, normalize_tenant_url
from reconciler.desired.tedge_toml import TedgeConfig
from reconciler.desired.types import RenewBefore, parse_renew_before

DEFAULT_REQUESTED = timedelta(days=365)
DEFAULT_RENEW_BEFORE = RenewBefore(duration=timedelta(days=30))
DEFAULT_ORGANIZATION = "Thin Edge"
DEFAULT_ORGANIZATIONAL_UNIT = "Device"
MQTT_TLS_PORT = 8883


def _tedge_value(parse, value: str | None, key: str, config: TedgeConfig):
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as err:
        raise BadInput(f"{config.config_dir / 'tedge.toml'}: {key}: {err}") from None


def _absolute(path: Path | None, base: Path) -> Path | None:
    if path is None:
        return None
    path = path.expanduser()
    return path if path.is_absolute() else base / path


def _distinct(files: dict[str, Path]) -> None:
    """Key, certificate, CSR, their staged names and the backups each need a place of their own:
    a certificate renamed over the key would leave the device without either."""
    seen: dict[Path, str] = {}
    for role, path in files.items():
        if path in seen:
            raise BadInput(f"{seen[path]} and {role} are the same path ({path}); each needs a file of its own")
        seen[path] = role


def resolve(desired: DesiredState, config: TedgeConfig, base_dir: Path) -> DesiredState:
    """Return a copy of `desired` with every default filled in and every path absolute."""
    tenant = _tenant(desired, config, base_dir)
    tenant_host = urlsplit(tenant.url).hostname if tenant.url else None
    return desired.model_copy(
        update={
            "tenant": tenant,
            "paths": _paths(desired, config, base_dir),  # before the rest: tedge.toml's errors come in file order
            "enrollment": desired.enrollment.model_copy(
                update={"one_time_password_file": _absolute(desired.enrollment.one_time_password_file, base_dir)}
            ),
            "renewal": _renewal(desired, config, tenant_host),
            "validity": _validity(desired, config),
            "subject": _subject(desired, config),
            "report": _report(desired, config, base_dir),
        }
    )


def _tenant(desired: DesiredState, config: TedgeConfig, base_dir: Path):
    """The tenant's HTTPS and MQTT addresses (MQTT on the HTTPS host's TLS port unless given), its CA files."""
    url = desired.tenant.url or _tedge_value(
        normalize_tenant_url, config.c8y_http or config.c8y_url, "c8y.http" if config.c8y_http else "c8y.url", config
    )
    host = urlsplit(url).hostname if url else None
    mqtt = desired.tenant.mqtt or config.c8y_mqtt
    if mqtt is None and host:
        mqtt = join_host_port(host, MQTT_TLS_PORT)
    return desired.tenant.model_copy(
        update={
            "url": url,
            "mqtt": mqtt,
            "ca_bundle": _absolute(desired.tenant.ca_bundle, base_dir),
            "ca_certificate": _absolute(desired.tenant.ca_certificate, base_dir),
        }
    )


def _paths(desired: DesiredState, config: TedgeConfig, base_dir: Path):
    """Key, certificate, CSR and backups: the desired state's, else tedge.toml's, else thin-edge's names."""
    certs, paths = config.device_certs_dir, desired.paths
    key = _absolute(paths.key, base_dir) or config.key_path or certs / "tedge-private-key.pem"
    cert = _absolute(paths.cert, base_dir) or config.cert_path or certs / "tedge-certificate.pem"
    csr = _absolute(paths.csr, base_dir) or config.csr_path or certs / "tedge.csr"
    backup_dir = _absolute(paths.backup_dir, base_dir) or cert.parent / "backup"
    for role, path in (("paths.key", key), ("paths.cert", cert), ("paths.csr", csr)):
        if not path.name:  # "/" names no file: nothing could be written there (found by fuzzing)
            raise BadInput(f"{role}: {path} names no file")
    _distinct({"paths.key": key, "paths.cert": cert, "paths.csr": csr, "<key>.new": key.with_name(key.name + ".new"),
               "<cert>.new": cert.with_name(cert.name + ".new"), "paths.backup_dir": backup_dir})
    return paths.model_copy(update={"key": key, "cert": cert, "csr": csr, "backup_dir": backup_dir})


def _validity(desired: DesiredState, config: TedgeConfig):
    requested = desired.validity.requested or _tedge_value(
        parse_duration, config.requested_duration, "certificate.validity.requested_duration", config
    )
    renew_before = desired.validity.renew_before or _tedge_value(
        parse_renew_before, config.minimum_duration, "certificate.validity.minimum_duration", config
    )
    return desired.validity.model_copy(
        update={"requested": requested or DEFAULT_REQUESTED, "renew_before": renew_before or DEFAULT_RENEW_BEFORE}
    )


def _renewal(desired: DesiredState, config: TedgeConfig, tenant_host: str | None):
    """Where a device token comes from: tedge's local proxy, the local broker, or the tenant's mTLS port."""
    renewal = desired.renewal
    proxy_url = renewal.proxy_url
    if proxy_url is None:
        scheme = "https" if config.proxy_cert_path else "http"
        proxy_url = f"{scheme}://{join_host_port(config.proxy_host or '127.0.0.1', config.proxy_port or 8001)}/c8y"
    local_broker = renewal.local_broker or join_host_port(
        config.mqtt_client_host or "localhost", config.mqtt_client_port or 1883
    )
    token_url = renewal.token_url
    if token_url is None and tenant_host:
        token_url = f"https://{join_host_port(tenant_host, 8443)}/devicecontrol/deviceAccessToken"
    return renewal.model_copy(
        update={"proxy_url": proxy_url.rstrip("/"), "local_broker": local_broker, "token_url": token_url}
    )


def _subject(desired: DesiredState, config: TedgeConfig):
    subject = desired.subject
    return subject.model_copy(
        update={
            "organization": subject.organization or config.organization or DEFAULT_ORGANIZATION,
            "organizational_unit": subject.organizational_unit or config.organization_unit or DEFAULT_ORGANIZATIONAL_UNIT,
        }
    )


TWIN_KEY = "deviceCertificate"


def _report(desired: DesiredState, config: TedgeConfig, base_dir: Path):
    """Where the twin goes: the local broker and topic thin-edge's own clients use, with its TLS files."""
    report = desired.report
    broker = report.local_broker or join_host_port(config.mqtt_client_host or "localhost", config.mqtt_client_port or 1883)
    topic = report.topic
    if topic is None:
        root = config.mqtt_topic_root or "te"
        device = config.mqtt_device_topic_id or "device/main//"
        topic = f"{root}/{device}/twin/{TWIN_KEY}"
        if "+" in topic or "#" in topic:
            raise BadInput(f"{config.config_dir / 'tedge.toml'}: mqtt.topic_root / mqtt.device_topic_id: {topic!r} has a wildcard")
    given = (report.ca_file, report.ca_dir, report.cert_file, report.key_file)
    files = given if any(given) else (config.mqtt_ca_file, config.mqtt_ca_dir, config.mqtt_cert_file, config.mqtt_key_file)
    if (files[2] is None) != (files[3] is None):
        raise BadInput(f"{config.config_dir / 'tedge.toml'}: mqtt.client.auth.cert_file and key_file go together")
    ca_file, ca_dir, cert_file, key_file = (_absolute(f, base_dir) for f in files)
    return report.model_copy(update={"local_broker": broker, "topic": topic, "ca_file": ca_file, "ca_dir": ca_dir,
                                     "cert_file": cert_file, "key_file": key_file})
