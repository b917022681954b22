"""The desired state: the user's contract (see schemas/desired-state.schema.json).

Fields left as None are filled from tedge.toml or thin-edge's defaults by `resolve.py`.
Unknown keys are errors so that a typo cannot pass silently. (No `from __future__ import
annotations` here: pydantic would have to evaluate every annotation string at import.)
"""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reconciler.basics.urls import check_url, split_endpoint, tenant_url
from reconciler.desired.types import (
    DEVICE_ID_PATTERN,
    Duration,
    FileMode,
    PositiveDuration,
    RenewBeforeField,
)

KeyAlgorithm = Literal["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Backoff(Strict):
    first: PositiveDuration = Field("1h", validate_default=True, description="Pause after the first failed run.")
    max: PositiveDuration = Field("24h", validate_default=True, description="Longest pause; each failure doubles it up to this.")

    @model_validator(mode="after")
    def _first_within_max(self):
        if self.first > self.max:
            raise ValueError("backoff: first must not be longer than max")
        return self


class Tenant(Strict):
    url: str | None = Field(None, description="Tenant HTTPS address (c8y.http); default from tedge.toml.")
    mqtt: str | None = Field(None, description="Tenant MQTT endpoint host[:port] (c8y.mqtt); default <url host>:8883.")
    ca_bundle: Path | None = Field(None, description="PEM file to trust for the tenant's HTTPS instead of the system store.")
    ca_certificate: Path | None = Field(
        None,
        description="The tenant CA certificate (PEM) issued certificates must chain to; "
        "when unset it is asked for at /.well-known/est/cacerts, and the check is skipped if the tenant has none.",
    )
    timeout: PositiveDuration = Field("30s", validate_default=True, description="Timeout of each HTTPS request.")
    backoff: Backoff = Field(
        Backoff(),
        description="After a run in which the tenant failed (enrollment or renewal), ask it nothing until "
        "this pause is over: first, doubling per failed run, up to max.",
    )

    @field_validator("url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        return None if value is None else normalize_tenant_url(value)

    @field_validator("mqtt")
    @classmethod
    def _mqtt_endpoint(cls, value: str | None) -> str | None:
        return None if value is None else _endpoint(value, 8883)


def normalize_tenant_url(value: str) -> str:
    """`example.cumulocity.com` or `https://example.cumulocity.com/` → `https://example.cumulocity.com`."""
    return tenant_url(value)


def _endpoint(value: str, default_port: int) -> str:
    split_endpoint(value, default_port)  # refuses what is no host[:port]
    return value.strip()


def _url(value: str, schemes: tuple[str, ...]) -> str:
    check_url(value, schemes)  # refuses what is no URL, or one with a user or password
    return value.strip()


class Enrollment(Strict):
    one_time_password_file: Path | None = Field(None, description="File holding the one-time password.")
    one_time_password_env: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Environment variable holding the one-time password."
    )
    retry_every: PositiveDuration = Field("30s", validate_default=True, description="Pause between enrollment attempts.")
    max_wait: Duration = Field("10m", validate_default=True, description="Give up after this long; 0 = one attempt.")
    max_attempts: int = Field(
        5, ge=1, le=1000,
        description="Requests to the tenant per run at most (enrollment and renewal); then the run fails and "
        "tenant.backoff decides when the next run may ask.",
    )


class Validity(Strict):
    requested: PositiveDuration | None = Field(
        None, description="Validity to ask for (certificate.validity.requested_duration; default 365d)."
    )
    renew_before: RenewBeforeField | None = Field(
        None,
        description="Renew this long before expiry, or at this percentage of the issued lifetime left "
        "(certificate.validity.minimum_duration; default 30d).",
    )


class Key(Strict):
    algorithm: KeyAlgorithm = "ec-p256"
    rotate_on_renewal: bool = Field(False, description="Generate a new key on renewal (thin-edge keeps it).")


class Subject(Strict):
    organization: str | None = Field(None, min_length=1, max_length=64, description="O (certificate.organization).")
    organizational_unit: str | None = Field(
        None, min_length=1, max_length=64, description="OU (certificate.organization_unit)."
    )


class Paths(Strict):
    key: Path | None = Field(None, description="Private key (device.key_path).")
    cert: Path | None = Field(None, description="Certificate (device.cert_path); the candidate is <cert>.new.")
    csr: Path | None = Field(None, description="Certificate signing request (device.csr_path).")
    backup_dir: Path | None = Field(None, description="Where replaced certificates are kept; default <cert dir>/backup.")
    backup_keep: int = Field(5, ge=1, le=1000, description="How many backups to keep.")
    owner: str | None = Field(None, min_length=1, description="Owner of key and certificate; unset = leave as is.")
    group: str | None = Field(None, min_length=1, description="Group of key and certificate; unset = leave as is.")
    key_mode: FileMode = Field("0600", validate_default=True, description="Mode of the private key.")
    cert_mode: FileMode = Field("0644", validate_default=True, description="Mode of the certificate.")


class Renewal(Strict):
    auth: Literal["tedge-proxy", "mqtt", "device-token"] = Field(
        "tedge-proxy", description="How re-enrollment gets its device token."
    )
    proxy_url: str | None = Field(
        None,
        description="thin-edge's local auth proxy for tedge-proxy; default "
        "http(s)://<c8y.proxy.client.host>:<c8y.proxy.client.port>/c8y (127.0.0.1:8001).",
    )
    local_broker: str | None = Field(
        None, description="Local MQTT broker host[:port] for mqtt; default mqtt.client.host:port (localhost:1883)."
    )
    token_url: str | None = Field(
        None,
        description="deviceAccessToken endpoint (mTLS) for device-token; "
        "default https://<tenant host>:8443/devicecontrol/deviceAccessToken.",
    )

    @field_validator("proxy_url")
    @classmethod
    def _proxy_url(cls, value: str | None) -> str | None:
        return None if value is None else _url(value, ("http", "https"))

    @field_validator("token_url")
    @classmethod
    def _token_url(cls, value: str | None) -> str | None:
        return None if value is None else _url(value, ("https",))

    @field_validator("local_broker")
    @classmethod
    def _local_broker(cls, value: str | None) -> str | None:
        return None if value is None else _endpoint(value, 1883)


class Activation(Strict):
    strategy: Literal["tedge", "command", "none"] = Field(
        "tedge", description="tedge: `tedge reconnect c8y` promotes <cert>.new; command: we promote, then run command."
    )
    command: tuple[str, ...] = Field(("tedge", "reconnect", "c8y"), min_length=1)
    verify: Literal["mqtt", "none"] = Field("mqtt", description="Connect to c8y.mqtt with the candidate first.")
    timeout: PositiveDuration = Field("2m", validate_default=True, description="How long the activation command may run.")


class Reporting(Strict):
    twin: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Publish the certificate's facts retained on <topic_root>/<device_topic_id>/twin/deviceCertificate "
        "(the mapper puts them in the inventory) after every run, when they changed or once a day: auto = when the "
        "local broker is reachable, a failure is a warning; on = a failure fails the run (exit 8); off = never.",
    )
    local_broker: str | None = Field(
        None, description="Local MQTT broker host[:port]; default mqtt.client.host:port (localhost:1883)."
    )
    topic: str | None = Field(
        None,
        description="The twin topic; default <mqtt.topic_root>/<mqtt.device_topic_id>/twin/deviceCertificate "
        "(te/device/main///twin/deviceCertificate).",
    )
    ca_file: Path | None = Field(None, description="CA to trust for TLS to the local broker (mqtt.client.auth.ca_file).")
    ca_dir: Path | None = Field(None, description="CA directory for TLS to the local broker (mqtt.client.auth.ca_dir).")
    cert_file: Path | None = Field(None, description="Client certificate for the local broker (mqtt.client.auth.cert_file).")
    key_file: Path | None = Field(None, description="Client key for the local broker (mqtt.client.auth.key_file).")

    @field_validator("local_broker")
    @classmethod
    def _local_broker(cls, value: str | None) -> str | None:
        return None if value is None else _endpoint(value, 1883)

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        if value is not None and (not value or "+" in value or "#" in value or "\x00" in value or len(value.encode()) > 65535):
            raise ValueError("a topic to publish on: not empty, no + or # wildcards, no NUL")
        return value

    @model_validator(mode="after")
    def _client_pair(self):
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("report: give cert_file and key_file together, or neither")
        return self


class DesiredState(Strict):
    device_id: str = Field(..., pattern=DEVICE_ID_PATTERN, description="The device id; the certificate CN.")
    tenant: Tenant = Tenant()
    enrollment: Enrollment = Enrollment()
    validity: Validity = Validity()
    key: Key = Key()
    subject: Subject = Subject()
    paths: Paths = Paths()
    renewal: Renewal = Renewal()
    activation: Activation = Activation()
    report: Reporting = Reporting()

    @model_validator(mode="after")
    def _one_password_source(self):
        if self.enrollment.one_time_password_file and self.enrollment.one_time_password_env:
            raise ValueError("enrollment: give one_time_password_file or one_time_password_env, not both")
        return self
