"""A stand-in for tedge-mapper-c8y: the parts of it between the tenant and the local broker that
certificate renewal from the tenant relies on. Not thin-edge's mapper; what it does:

- twin: a retained JSON message on `<root>/<device>/twin/<key>` becomes the fragment `{key: value}` on
  the device's managed object; an empty payload deletes the fragment; a value equal to the last one
  sent is not sent again; keys that are empty or start with `@` are ignored; so is JSON that does not parse.
- operations: a PENDING operation for the device that carries the `on_fragment` of a template under
  <config_dir>/operations/c8y, whose workflow has announced its capability (`<root>/<device>/cmd/<op>`
  retained, not empty), becomes the retained command `<root>/<device>/cmd/<op>/c8y-mapper-<operation id>`:
  the template's input evaluated against the operation (it must be a JSON object, or the operation is
  dropped: left PENDING, as the mapper logs and skips it), plus `"status": "init"` and a `c8y-mapper` object.
- command states: `executing` → EXECUTING; `successful` → SUCCESSFUL with the template's output (a string
  or an array, else FAILED) in `<fragment>.result`; `failed` → FAILED with the command's `reason`; other
  states are not reported. After SUCCESSFUL or FAILED the command topic is cleared (empty retained).
- c8y_SupportedOperations: the names of the templates whose workflow announced its capability.

How it differs: it talks to the emulator over HTTPS with the administrator's credentials (the real
mapper uses the device's MQTT connection and SmartREST), and finds new operations by polling
`GET /devicecontrol/operations?status=PENDING` every `poll` seconds instead of being notified. It
serves one device (the main device), keeps no state across restarts, and knows nothing of child
devices, services, measurements, events, alarms, or any other operation mechanism.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import requests

from c8y_emulator.stand_ins.templates import Template, load_templates, substitute

log = logging.getLogger("c8y_emulator.mapper")
COMMAND_PREFIX = "c8y-mapper-"


class MapperStandIn:
    def __init__(self, tenant_url: str, admin: tuple[str, str], ca_bundle: Path, device_id: str, broker: tuple[str, int],
                 config_dir: Path, topic_root: str = "te", device_topic_id: str = "device/main//", poll: float = 0.2):
        self.tenant_url, self.device_id, self.config_dir, self.poll = tenant_url.rstrip("/"), device_id, config_dir, poll
        self.prefix = f"{topic_root}/{device_topic_id}"
        self.http = requests.Session()
        self.http.auth = admin
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would override the session's trust; proxies are no use on loopback
        self.http.verify = str(ca_bundle)
        self.broker = broker
        self.managed_object: str | None = None
        self.capabilities: set[str] = set()
        self.twin_sent: dict[str, bytes] = {}
        self.operations_seen: set[str] = set()
        self.commands: dict[str, tuple[str, Template]] = {}  # command topic → (operation id, template)
        self.supported_sent: list[str] | None = None
        self.log: list[str] = []  # what it did, in words, for tests and for people reading a failure
        self._inbox: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"c8y-mapper-stand-in-{device_id}")
        self._client.on_connect = self._on_connect
        self._client.on_message = lambda _c, _u, message: self._inbox.put((message.topic, bytes(message.payload)))
        self._worker = threading.Thread(target=self._work, name=f"mapper-{device_id}", daemon=True)

    # --- life cycle -----------------------------------------------------------------------------

    def start(self) -> "MapperStandIn":
        self._client.reconnect_delay_set(0.1, 1)  # the broker restarts with `tedge reconnect c8y`
        self._client.connect_async(*self.broker)
        self._client.loop_start()
        self._worker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._client.loop_stop()
        self._client.disconnect()
        self._worker.join(timeout=5)
        self.http.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc):
        self.stop()

    def _on_connect(self, client, _userdata, _flags, reason, _properties):
        if not reason.is_failure:
            client.subscribe([(f"{self.prefix}/twin/+", 1), (f"{self.prefix}/cmd/+", 1), (f"{self.prefix}/cmd/+/+", 1)])

    def _note(self, text: str) -> None:
        self.log.append(text)
        log.info("%s", text)

    # --- the loop: one thread does all HTTP, in the order things arrived ---------------------------

    def _work(self) -> None:
        next_poll = 0.0
        while not self._stop.is_set():
            try:
                topic, payload = self._inbox.get(timeout=max(0.0, min(self.poll, next_poll - time.monotonic())))
            except queue.Empty:
                topic = None
            try:
                if self.managed_object is None:
                    self.managed_object = self._find_managed_object()
                if topic is not None:
                    self._on_message(topic, payload)
                elif time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + self.poll
                    if self.managed_object:
                        self._poll_operations()
            except requests.HTTPError as err:  # the tenant refused: retrying would not change its mind
                self._note(f"refused: {err}")
            except (requests.RequestException, ValueError) as err:
                self._note(f"error: {err}")
                if topic is not None:
                    self._inbox.put((topic, payload))  # the tenant was away: keep the message
                time.sleep(self.poll)

    def _find_managed_object(self) -> str | None:
        answer = self.http.get(f"{self.tenant_url}/identity/externalIds/c8y_Serial/{self.device_id}", timeout=10)
        return answer.json()["managedObject"]["id"] if answer.status_code == 200 else None

    def _on_message(self, topic: str, payload: bytes) -> None:
        if self.managed_object is None:
            raise ValueError(f"{self.device_id} has no managed object yet")
        rest = topic[len(self.prefix) + 1:].split("/")
        if rest[0] == "twin" and len(rest) == 2:
            self._twin(rest[1], payload)
        elif rest[0] == "cmd" and len(rest) == 2:
            self._capability(rest[1], payload)
        elif rest[0] == "cmd" and len(rest) == 3 and rest[2].startswith(COMMAND_PREFIX):
            self._command(topic, payload)

    # --- twin and capabilities --------------------------------------------------------------------

    def _put_fragments(self, fragments: dict) -> None:
        answer = self.http.put(f"{self.tenant_url}/inventory/managedObjects/{self.managed_object}", json=fragments, timeout=10)
        answer.raise_for_status()

    def _twin(self, key: str, payload: bytes) -> None:
        if not key or key.startswith("@"):
            return self._note(f"twin {key!r}: not a fragment name, ignored")
        if self.twin_sent.get(key) == payload:
            return
        if payload:
            try:
                value = json.loads(payload)
            except (ValueError, RecursionError):
                return self._note(f"twin {key}: not JSON, ignored")
        else:
            value = None
        self._put_fragments({key: value})
        self.twin_sent[key] = payload
        self._note(f"twin {key}: {'deleted' if value is None else 'updated'}")

    def _capability(self, operation: str, payload: bytes) -> None:
        (self.capabilities.add if payload else self.capabilities.discard)(operation)
        supported = sorted(t.name for t in load_templates(self.config_dir).values() if t.operation in self.capabilities)
        if supported != self.supported_sent:
            self._put_fragments({"c8y_SupportedOperations": supported})
            self.supported_sent = supported
            self._note(f"c8y_SupportedOperations: {supported}")

    # --- operations → commands → statuses ---------------------------------------------------------

    def _poll_operations(self) -> None:
        answer = self.http.get(f"{self.tenant_url}/devicecontrol/operations", timeout=10,
                               params={"deviceId": self.managed_object, "status": "PENDING", "pageSize": 100})
        answer.raise_for_status()
        for operation in answer.json()["operations"]:
            if operation["id"] not in self.operations_seen:
                self._start(operation)

    def _start(self, operation: dict) -> None:
        templates = [t for t in load_templates(self.config_dir).values()
                     if t.on_fragment in operation and t.operation in self.capabilities]
        if not templates:
            return  # not (yet) supported: looked at again on the next poll
        self.operations_seen.add(operation["id"])
        template = templates[0]
        command = substitute(template.input, {"payload": operation, "topic": {}})
        if not isinstance(command, dict):
            return self._note(f"operation {operation['id']}: invalid value for `exec.workflow.input`, dropped")
        topic = f"{self.prefix}/cmd/{template.operation}/{COMMAND_PREFIX}{operation['id']}"
        command = {**command, "status": "init", "c8y-mapper": {"on_fragment": template.on_fragment, "output": template.output}}
        self.commands[topic] = (operation["id"], template)
        self._client.publish(topic, json.dumps(command), qos=1, retain=True)
        self._note(f"operation {operation['id']}: command {topic}")

    def _set_status(self, op_id: str, changes: dict) -> None:
        answer = self.http.put(f"{self.tenant_url}/devicecontrol/operations/{op_id}", json=changes, timeout=10)
        answer.raise_for_status()
        self._note(f"operation {op_id}: {changes['status']}")

    def _command(self, topic: str, payload: bytes) -> None:
        if not payload or topic not in self.commands:
            return  # cleared, or a command this run of the mapper did not create
        try:
            command = json.loads(payload)
        except (ValueError, RecursionError):
            return
        status = command.get("status") if isinstance(command, dict) else None
        op_id, template = self.commands[topic]
        if status == "executing":
            self._set_status(op_id, {"status": "EXECUTING"})
        elif status == "successful":
            changes = {"status": "SUCCESSFUL"}
            if template.output is not None:
                output = substitute(template.output, {"payload": command, "topic": {}})
                if not isinstance(output, (str, list)):
                    changes = {"status": "FAILED", "failureReason": "the command's output is neither a string nor an array"}
                else:
                    changes[template.on_fragment] = {**self._fragment_of(op_id, template), "result": output}
            self._finish(topic, op_id, changes)
        elif status == "failed":
            reason = command.get("reason")
            self._finish(topic, op_id, {"status": "FAILED", "failureReason": reason if isinstance(reason, str) and reason else "failed"})

    def _fragment_of(self, op_id: str, template: Template) -> dict:
        answer = self.http.get(f"{self.tenant_url}/devicecontrol/operations/{op_id}", timeout=10)
        fragment = answer.json().get(template.on_fragment) if answer.status_code == 200 else None
        return fragment if isinstance(fragment, dict) else {}

    def _finish(self, topic: str, op_id: str, changes: dict) -> None:
        self._set_status(op_id, changes)
        del self.commands[topic]
        self._client.publish(topic, b"", qos=1, retain=True)
        self._note(f"operation {op_id}: command topic cleared")
