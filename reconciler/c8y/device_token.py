"""A device token (JWT) for re-enrollment: over the local thin-edge MQTT broker, or over mTLS.

Each request that goes toward the tenant calls `sent()` first: the run counts it, so that a token
that cannot be had is a tenant failure and starts the backoff like a failed enrollment."""

from __future__ import annotations

import json
import os
import queue
from typing import Callable

from reconciler.basics.errors import TenantRefused, Unavailable, Unreachable
from reconciler.c8y.endpoints import host_port
from reconciler.c8y.http import Transient, host_of, new_session, send
from reconciler.desired.model import DesiredState

TOKEN_REQUEST_TOPIC = "c8y/s/uat"
TOKEN_ANSWER_TOPIC = "c8y/s/dat"
MQTT_WAIT_SECONDS = 20.0  # thin-edge waits this long, three times
MQTT_TRIES = 3


def _nothing() -> None:
    pass


def token_over_mqtt(spec: DesiredState, wait: float = MQTT_WAIT_SECONDS, tries: int = MQTT_TRIES,
                    sent: Callable[[], None] = _nothing) -> str:
    """Publish an empty message to c8y/s/uat on the local broker; the cloud answers `71,<jwt>` on c8y/s/dat."""
    try:
        import paho.mqtt.client as mqtt  # an optional extra: only runs that use MQTT need it
    except ImportError:
        raise Unavailable("renewal.auth mqtt needs paho-mqtt: pip install 'tedge-cert-reconciler[mqtt]'") from None
    host, port = host_port(spec.renewal.local_broker, 1883, "renewal.local_broker")
    answers: queue.Queue = queue.Queue()
    subscribed: queue.Queue = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"tedge-cert-reconcile-{os.getpid()}")
    client.on_message = lambda _c, _u, message: answers.put(message.payload)
    client.on_subscribe = lambda *_args: subscribed.put(True)
    try:
        client.connect(host, port, keepalive=30)
    except OSError as err:
        raise Unreachable(f"cannot reach the local MQTT broker at {host}:{port}: {err.strerror or err}") from None
    client.loop_start()
    try:
        client.subscribe(TOKEN_ANSWER_TOPIC, qos=1)
        try:
            subscribed.get(timeout=wait)
        except queue.Empty:
            raise Unreachable(f"the local MQTT broker at {host}:{port} did not confirm the subscription") from None
        for _ in range(tries):
            sent()  # the bridge carries it to the cloud: a request to the tenant
            client.publish(TOKEN_REQUEST_TOPIC, b"", qos=1)
            try:
                while True:
                    payload = answers.get(timeout=wait).decode("utf-8", "replace").strip()
                    if payload.startswith("71,") and len(payload) > 3:
                        return payload[3:]
            except queue.Empty:
                continue
        raise Unreachable(
            f"no device token on {TOKEN_ANSWER_TOPIC} after {tries} requests of {wait:g}s; is the c8y bridge connected?"
        )
    finally:
        client.loop_stop()
        client.disconnect()


def token_over_mtls(spec: DesiredState, sent: Callable[[], None] = _nothing) -> str:
    """POST deviceAccessToken with the current certificate as TLS client certificate. A tenant in
    trouble (429, 5xx) or out of reach is Unreachable (8); a refusal is TenantRefused (6)."""
    url = spec.renewal.token_url
    if not url:
        raise TenantRefused("renewal.auth device-token needs renewal.token_url or tenant.url")
    session = new_session(spec.tenant.ca_bundle)
    session.cert = (str(spec.paths.cert), str(spec.paths.key))
    try:
        sent()
        answer = send(session, "POST", url, timeout=spec.tenant.timeout.total_seconds(), headers={"Accept": "application/json"})
    except Transient as err:
        raise Unreachable(f"device token: {err}") from None
    finally:
        session.close()
    if answer.status in (401, 403):
        raise TenantRefused(f"{host_of(url)} refused the device certificate for a token ({answer.status}): {answer.tenant_message()}")
    if answer.status == 429 or answer.status >= 500:
        raise Unreachable(f"{host_of(url)} gave no device token ({answer.status}): {answer.tenant_message()}")
    if answer.status != 200:
        raise TenantRefused(f"{host_of(url)} gave no device token ({answer.status}): {answer.tenant_message()}")
    try:
        token = json.loads(answer.body)["accessToken"]
    except (ValueError, KeyError, TypeError):
        raise TenantRefused(f"{host_of(url)} answered the token request without an accessToken") from None
    if not isinstance(token, str) or not token.strip():
        raise TenantRefused(f"{host_of(url)} answered the token request with an empty accessToken")
    return token.strip()
