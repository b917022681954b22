"""Publish one retained message to the device's local MQTT broker and wait for its PUBACK.

A standard-library MQTT 3.1.1 client of a dozen lines of protocol (mqtt_packets.py): the twin is
published after every run on every device, so it must not need paho-mqtt, which stays an optional
extra for the test connection and the token over MQTT. TLS and a client certificate are used when
the broker's settings (tedge.toml's mqtt.client.auth.*) name them, as thin-edge's own clients do.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import NamedTuple

from reconciler.basics.errors import Unreachable
from reconciler.c8y.endpoints import host_port
from reconciler.c8y.mqtt_packets import connack_problem, connect, disconnect, puback_id, publish, read_packet

TIMEOUT_SECONDS = 5.0


class LocalBroker(NamedTuple):
    address: str  # host[:port]
    ca_file: Path | None = None
    ca_dir: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    @property
    def tls(self) -> bool:
        return bool(self.ca_file or self.ca_dir or self.cert_file)


def _tls_context(broker: LocalBroker):
    import ssl  # only for a TLS broker: a plain one, the default, does not pay for loading OpenSSL here

    context = ssl.create_default_context(
        cafile=str(broker.ca_file) if broker.ca_file else None, capath=str(broker.ca_dir) if broker.ca_dir else None
    )
    if broker.cert_file:
        context.load_cert_chain(str(broker.cert_file), str(broker.key_file))
    return context


def _reader(sock):
    def read(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                break
            data += chunk
        return data

    return read


def publish_retained(broker: LocalBroker, topic: str, payload: bytes, timeout: float = TIMEOUT_SECONDS) -> None:
    """Publish `payload` retained at QoS 1 on `topic`; Unreachable naming the broker and why, if not acknowledged."""
    host, port = host_port(broker.address, 8883 if broker.tls else 1883, "report.local_broker")
    where = f"the local MQTT broker at {broker.address}{' (TLS)' if broker.tls else ''}"
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as err:
        raise Unreachable(f"cannot reach {where}: {err.strerror or err}") from None
    try:
        sock = _tls_context(broker).wrap_socket(raw, server_hostname=host) if broker.tls else raw
        read = _reader(sock)
        sock.sendall(connect(f"tedge-cert-twin-{os.getpid()}"))
        problem = connack_problem(read_packet(read))
        if problem:
            raise Unreachable(f"{where}: {problem}")
        sock.sendall(publish(topic, payload, packet_id=1))
        if puback_id(read_packet(read)) != 1:
            raise Unreachable(f"{where} did not acknowledge the message on {topic}")
        sock.sendall(disconnect())
    except (OSError, ValueError) as err:  # refused TLS (ssl.SSLError is an OSError), a timeout, a hang-up, a malformed answer
        raise Unreachable(f"cannot publish to {where}: {getattr(err, 'strerror', None) or err}") from None
    finally:
        raw.close()
