"""The mapper stand-in between real mosquitto and the emulator over HTTPS: twin → inventory,
operation → retained command, command status → operation status, topic cleared at the end."""

from __future__ import annotations

import json
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from c8y_emulator.stand_ins.mapper import MapperStandIn
from tests.waiting import until

TEMPLATE = """\
[exec]
topic = "c8y/devicecontrol/notifications"
on_fragment = "c8y_Probe"

[exec.workflow]
operation = "probe"
input = "${.payload.c8y_Probe}"
output = "${.payload.result}"
"""
CMD = "te/device/main///cmd/probe"


class Local:
    """A client of the local broker that remembers the last message on every topic."""

    def __init__(self, broker):
        self.last: dict[str, bytes] = {}
        self.changed = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port)
        self.client.subscribe("te/#", qos=1)
        self.client.loop_start()

    def _on_message(self, _c, _u, message):
        with self.changed:
            self.last[message.topic] = bytes(message.payload)
            self.changed.notify_all()

    def publish(self, topic: str, payload, retain: bool = True) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.client.publish(topic, data, qos=1, retain=retain).wait_for_publish(5)

    def wait_for(self, topic: str, check, timeout: float = 10.0) -> bytes:
        with self.changed:
            if not self.changed.wait_for(lambda: topic in self.last and check(self.last[topic]), timeout):
                raise AssertionError(f"{topic}: {self.last.get(topic)!r}")
            return self.last[topic]

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def setup(tmp_path, tenant, local_broker):
    (tmp_path / "operations" / "c8y").mkdir(parents=True)
    (tmp_path / "operations" / "c8y" / "c8y_Probe.template").write_text(TEMPLATE)
    (tmp_path / "operations" / "c8y" / "bad-name.template").write_text(TEMPLATE)
    (mo,) = tenant.seed_devices(1, prefix="gw")
    mapper = MapperStandIn(tenant.url, (tenant.admin_user, tenant.admin_password), tenant.ca_bundle, "gw-00000",
                           ("127.0.0.1", local_broker.port), tmp_path, poll=0.05).start()
    local = Local(local_broker)
    yield tenant, mo, mapper, local
    local.close()
    mapper.stop()


def _puts(tenant, mo):
    return [r for r in tenant.requests if r.method == "PUT" and r.path == f"/inventory/managedObjects/{mo}"]


def test_twin_becomes_a_fragment_repeats_are_suppressed_empty_deletes(setup):
    tenant, mo, mapper, local = setup
    local.publish("te/device/main///twin/deviceCertificate", {"notAfterEpoch": 1767225600, "serialNumber": "1a"})
    until(lambda: tenant.inventory.get(mo).get("deviceCertificate") == {"notAfterEpoch": 1767225600, "serialNumber": "1a"})
    local.publish("te/device/main///twin/deviceCertificate", {"notAfterEpoch": 1767225600, "serialNumber": "1a"})
    local.publish("te/device/main///twin/@hidden", {"x": 1})
    local.publish("te/device/main///twin/other", b"{not json")
    local.publish("te/device/main///twin/marker", {"done": True})
    until(lambda: "marker" in tenant.inventory.get(mo))
    assert len(_puts(tenant, mo)) == 2  # the repeat, the @key and the bad JSON sent nothing
    local.publish("te/device/main///twin/deviceCertificate", b"")
    until(lambda: "deviceCertificate" not in tenant.inventory.get(mo))


def test_supported_operations_follow_the_capability(setup):
    tenant, mo, mapper, local = setup
    local.publish(CMD, {})
    until(lambda: tenant.inventory.get(mo).get("c8y_SupportedOperations") == ["c8y_Probe"])
    local.publish(CMD, b"")
    until(lambda: tenant.inventory.get(mo).get("c8y_SupportedOperations") == [])


def _operation(tenant, mo, fragment) -> str:
    return tenant.operations.create(mo, "gw-00000", {"c8y_Probe": fragment})["id"]


def _command(local, op: str) -> tuple[str, dict]:
    """The topic of the command the mapper made of operation `op`, and the command once it is there."""
    topic = f"{CMD}/c8y-mapper-{op}"
    return topic, json.loads(local.wait_for(topic, bool))


def test_operation_to_command_and_back_to_successful(setup):
    tenant, mo, mapper, local = setup
    op = _operation(tenant, mo, {"depth": 3})
    time.sleep(0.3)
    assert not any(t.startswith(CMD + "/") for t in local.last)  # no capability yet: not acted on
    local.publish(CMD, {})
    topic, command = _command(local, op)
    assert command["depth"] == 3 and command["status"] == "init" and command["c8y-mapper"]["on_fragment"] == "c8y_Probe"
    local.publish(topic, {**command, "status": "scheduled"})
    local.publish(topic, {**command, "status": "executing"})
    until(lambda: tenant.operations.get(op)["status"] == "EXECUTING")
    local.publish(topic, {**command, "status": "successful", "result": "serial 2b, not after 2027-12-07"})
    until(lambda: tenant.operations.get(op)["status"] == "SUCCESSFUL")
    assert tenant.operations.get(op)["c8y_Probe"]["result"] == "serial 2b, not after 2027-12-07"
    assert tenant.operations.statuses(op) == ["PENDING", "EXECUTING", "SUCCESSFUL"]
    local.wait_for(topic, lambda payload: payload == b"")


def test_failed_command_carries_its_reason(setup):
    tenant, mo, mapper, local = setup
    local.publish(CMD, {})
    op = _operation(tenant, mo, {})
    topic, command = _command(local, op)
    local.publish(topic, {**command, "status": "failed", "reason": "another reconcile holds the lock"})
    until(lambda: tenant.operations.get(op)["status"] == "FAILED")
    assert tenant.operations.get(op)["failureReason"] == "another reconcile holds the lock"
    assert tenant.operations.statuses(op) == ["PENDING", "FAILED"]  # no `executing` state: straight to the end
    local.wait_for(topic, lambda payload: payload == b"")


def test_output_that_is_no_string_fails_the_operation(setup):
    tenant, mo, mapper, local = setup
    local.publish(CMD, {})
    op = _operation(tenant, mo, {})
    topic, command = _command(local, op)
    local.publish(topic, {**command, "status": "successful", "result": {"serial": "2b"}})
    until(lambda: tenant.operations.get(op)["status"] == "FAILED")
    assert "neither a string nor an array" in tenant.operations.get(op)["failureReason"]


def test_input_that_is_not_an_object_drops_the_operation(setup):
    tenant, mo, mapper, local = setup
    local.publish(CMD, {})
    op = _operation(tenant, mo, "rotate")
    until(lambda: any(f"operation {op}: invalid value" in line for line in mapper.log))
    assert f"{CMD}/c8y-mapper-{op}" not in local.last
    assert tenant.operations.get(op)["status"] == "PENDING"
