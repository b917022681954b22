"""Test-connect to the tenant's MQTT endpoint with a candidate certificate before swapping it in."""

from __future__ import annotations

import queue
import ssl

from reconciler.basics.errors import ReconcileError, Unavailable
from reconciler.c8y.endpoints import host_port
from reconciler.c8y.http import checked_ca_bundle
from reconciler.desired.model import DesiredState

CONNECT_WAIT_SECONDS = 15.0


def test_connection(spec: DesiredState, cert, key, wait: float = CONNECT_WAIT_SECONDS) -> None:
    """Connect with client id = device id (as the bridge does) and disconnect at once."""
    try:
        import paho.mqtt.client as mqtt  # an optional extra: only runs that use MQTT need it
    except ImportError:
        raise Unavailable("activation.verify mqtt needs paho-mqtt: pip install 'tedge-cert-reconciler[mqtt]'") from None
    if not spec.tenant.mqtt:
        raise ReconcileError("activation.verify mqtt needs tenant.mqtt or c8y.mqtt")
    host, port = host_port(spec.tenant.mqtt, 8883, "tenant.mqtt")
    outcome: queue.Queue = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=spec.device_id)
    client.on_connect = lambda _c, _u, _f, reason, _p: outcome.put(reason)
    # With TLS 1.3 a refused client certificate shows only as the broker hanging up after the handshake.
    client.on_disconnect = lambda *_args: outcome.put(None)
    try:
        client.tls_set(
            ca_certs=str(checked_ca_bundle(spec.tenant.ca_bundle)) if spec.tenant.ca_bundle else None,
            certfile=str(cert),
            keyfile=str(key),
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
        client.connect(host, port, keepalive=10)
    except (OSError, ssl.SSLError, ValueError) as err:
        raise ReconcileError(f"test connection to {host}:{port} with the candidate failed: {err}") from None
    client.loop_start()
    try:
        reason = outcome.get(timeout=wait)
    except queue.Empty:
        raise ReconcileError(f"test connection to {host}:{port} with the candidate: no answer in {wait:g}s") from None
    finally:
        client.disconnect()
        client.loop_stop()
    if reason is None:
        raise ReconcileError(f"{host}:{port} closed the connection before accepting the candidate certificate")
    if reason.is_failure:
        raise ReconcileError(f"{host}:{port} refused the candidate certificate: {reason}")
