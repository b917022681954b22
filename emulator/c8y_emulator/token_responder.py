"""The cloud's side of thin-edge's bridge for device tokens, emulated on a local broker:
an empty message on c8y/s/uat is answered with `71,<jwt>` on c8y/s/dat.

`answering=False` emulates a token service that is down: every request is received and logged,
none is answered."""

from __future__ import annotations

import queue
import threading

import paho.mqtt.client as mqtt


class TokenResponder:
    def __init__(self, tenant, device_id: str, host: str, port: int, answering: bool = True):
        self.tenant, self.device_id = tenant, device_id
        self.answering = answering
        self.received: list[bytes] = []  # every c8y/s/uat message that arrived: what the cloud was asked
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="c8y-bridge-emulator")
        self.client.on_message = self._answer
        self._subscribed: queue.Queue = queue.Queue()
        self.client.on_subscribe = lambda *_args: self._subscribed.put(True)
        self.host, self.port = host, port

    @property
    def requests(self) -> int:
        return len(self.received)

    def _answer(self, client, _userdata, message):
        with self._lock:
            self.received.append(bytes(message.payload))
        if self.answering:
            client.publish("c8y/s/dat", f"71,{self.tenant.token_for(self.device_id)}", qos=1)

    def __enter__(self) -> "TokenResponder":
        self.client.connect(self.host, self.port)
        self.client.loop_start()
        self.client.subscribe("c8y/s/uat", qos=1)
        self._subscribed.get(timeout=10)
        return self

    def __exit__(self, *_exc) -> None:
        self.client.loop_stop()
        self.client.disconnect()
