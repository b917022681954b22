"""A subscriber on a test broker that keeps every message it sees on a topic (retained or live), so
that a test can count what the far side received."""

from __future__ import annotations

import json
import ssl
import threading
import time

import paho.mqtt.client as mqtt


class TopicWatch:
    def __init__(self, port: int, topic: str, tls: tuple | None = None):
        """`tls`: (ca_file, cert_file, key_file) for a TLS broker that asks for a client certificate."""
        self.topic, self.messages = topic, []
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"watch-{id(self)}")
        self.client.on_message = lambda _c, _u, message: self.messages.append((message.payload, message.retain))
        self.client.on_subscribe = lambda *_args: self._subscribed.set()
        self.client.on_connect = lambda client, *_args: client.subscribe(topic, qos=1)
        if tls:
            self.client.tls_set(ca_certs=str(tls[0]), certfile=str(tls[1]), keyfile=str(tls[2]), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._subscribed.wait(10), f"could not subscribe to {topic}"

    def wait_for(self, count: int, timeout: float = 10) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages

    def settle(self, seconds: float = 0.5) -> int:
        """The number of messages once nothing more arrived for a moment."""
        time.sleep(seconds)
        return len(self.messages)

    def last(self) -> dict:
        return json.loads(self.messages[-1][0])

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def retained(port: int, topic: str, tls: tuple | None = None, timeout: float = 2) -> dict | None:
    """What a new subscriber gets first on `topic`: the retained message, or None."""
    watch = TopicWatch(port, topic, tls)
    try:
        messages = watch.wait_for(1, timeout)
        return json.loads(messages[0][0]) if messages and messages[0][1] else None
    finally:
        watch.close()
