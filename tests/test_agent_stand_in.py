"""The agent stand-in running the installed certificate_renew workflow on a real mosquitto: a retained
command `init` ends `successful` with a new certificate live, or `failed` with the engine's reason."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from datetime import timedelta

from c8y_emulator.stand_ins.agent import AgentStandIn, script_output
from c8y_emulator.stand_ins.templates import substitute_text
from reconciler.basics.layout import lock_file
from reconciler.basics.lock import exclusive_lock
from reconciler.x509.facts import certificate_info, load_certificates
from tests.device_files import converged_device
from tests.mqtt_watch import TopicWatch, retained
from tests.reconcile_cli import run as reconcile
from tests.tenant_device import make_device

COMMAND = "te/device/main///cmd/certificate_renew/c8y-mapper-101"
TWIN = "te/device/main///twin/deviceCertificate"


def _installed_device(tmp_path, tenant, broker, **sections):
    """A device whose desired state is <config-dir>/reconcile.yaml, with the workflow installed to run this checkout."""
    converged_device(tmp_path, age=timedelta(days=1), ca=tenant.ca)
    device = make_device(tmp_path, tenant, report={"twin": "auto", "local_broker": broker.address}, **sections)
    shutil.copy(device.state, tmp_path / "reconcile.yaml")
    installed = reconcile("install-operation", "--config-dir", str(tmp_path), "--reconcile-command", f"{sys.executable} -m reconciler")
    assert installed.returncode == 0, installed.stderr
    return device


def _serial(pem: bytes) -> str:
    return certificate_info(load_certificates(pem)[0]).serial


def _run_command(broker, tmp_path, parameters: dict, timeout: float = 60) -> tuple[list[dict], AgentStandIn]:
    """Publish the command as the mapper would and follow it to a terminal state; the states seen, in order."""
    watch = TopicWatch(broker.port, COMMAND)
    agent = AgentStandIn(("127.0.0.1", broker.port), tmp_path).start()
    try:
        watch.client.publish(COMMAND, json.dumps({"status": "init", **parameters}), qos=1, retain=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = [json.loads(payload) for payload, _ in watch.messages if payload]
            if states and states[-1]["status"] in ("successful", "failed"):
                return states, agent
            time.sleep(0.05)
        raise AssertionError(f"no terminal state in {timeout}s; the agent did: {agent.log}")
    finally:
        agent.stop()
        watch.close()


def test_a_retained_init_command_ends_successful_with_a_new_certificate_live(tmp_path, tenant, local_broker):
    device = _installed_device(tmp_path, tenant, local_broker)
    before = device.live()
    capability = retained(local_broker.port, "te/device/main///cmd/certificate_renew", timeout=0.5)
    assert capability is None, "announced only by the agent"
    states, agent = _run_command(local_broker, tmp_path, {})
    assert [s["status"] for s in states] == ["init", "executing", "renew", "activate", "check", "successful"], agent.log
    done = states[-1]
    key, cert = device.live()
    assert done["serial"] == _serial(cert) != _serial(before[1]) and key == before[0]
    assert done["result"].startswith(f"certificate serial {done['serial']} valid until {done['notAfter']}")
    assert len(tenant.requests_to("simplereenroll")) == 1
    assert retained(local_broker.port, "te/device/main///cmd/certificate_renew") == {}
    twin = retained(local_broker.port, TWIN)
    assert twin["serialNumber"] == done["serial"] and twin["notAfter"] == done["notAfter"]


def test_rotate_key_true_renews_with_a_new_key(tmp_path, tenant, local_broker):
    device = _installed_device(tmp_path, tenant, local_broker)
    before = device.live()
    states, agent = _run_command(local_broker, tmp_path, {"rotateKey": True})
    assert states[-1]["status"] == "successful", agent.log
    assert device.live()[0] != before[0]


def test_a_refusing_tenant_ends_failed_with_the_engines_message(tmp_path, tenant, local_broker):
    device = _installed_device(tmp_path, tenant, local_broker)
    before = device.live()
    tenant.refuse_tokens = True
    states, agent = _run_command(local_broker, tmp_path, {})
    assert [s["status"] for s in states] == ["init", "executing", "renew", "failed"], agent.log
    assert "refused the device certificate for a token (401)" in states[-1]["reason"]
    assert device.live() == before


def test_substitution_and_output_follow_the_workflow_conventions():
    context = {"payload": {"a": {"b": True}, "s": "x y", "n": 3}, "topic": {"cmd_id": "c8y-mapper-7"}}
    assert substitute_text("--a=${.payload.a.b} ${.payload.s} ${.payload.n} ${.payload.none}|${.topic.cmd_id}", context) == \
        "--a=true x y 3 |c8y-mapper-7"
    assert script_output("log line\n:::begin-tedge:::\n{\"k\": 1}\n:::end-tedge:::\n") == {"k": 1}
    assert script_output(":::begin-tedge:::\n[1]\n:::end-tedge:::\n") == {}


def test_an_activation_that_restarts_the_broker_still_ends_truthfully(tmp_path, tenant, local_broker):
    pidfile = tmp_path / "restarted.pid"
    restart = [sys.executable, "-m", "tests.broker_restart", str(local_broker.process.pid),
               str(tmp_path / "local-broker" / "mosquitto.conf"), str(local_broker.port), str(pidfile)]
    device = _installed_device(tmp_path, tenant, local_broker,
                               activation={"strategy": "command", "command": restart, "verify": "none"})
    before = device.live()
    try:
        states, agent = _run_command(local_broker, tmp_path, {})
        assert pidfile.exists(), "the activation restarted the broker"
        assert states[-1]["status"] == "successful", agent.log
        assert states[-1]["serial"] == _serial(device.live()[1]) != _serial(before[1])
        assert retained(local_broker.port, TWIN)["serialNumber"] == states[-1]["serial"]
    finally:
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), signal.SIGTERM)


def test_a_held_lock_ends_failed_with_the_reason(tmp_path, tenant, local_broker):
    device = _installed_device(tmp_path, tenant, local_broker)
    with exclusive_lock(lock_file(device.cert), 1):
        states, agent = _run_command(local_broker, tmp_path, {})
    assert [s["status"] for s in states] == ["init", "executing", "renew", "failed"], agent.log
    assert "another reconcile holds the lock" in states[-1]["reason"]
    assert not tenant.requests_to("simplereenroll")


def test_a_failed_activation_ends_failed_with_the_engines_message_and_the_old_certificate(tmp_path, tenant, local_broker):
    device = _installed_device(tmp_path, tenant, local_broker,
                               activation={"strategy": "command", "command": ["false"], "verify": "none"})
    before = device.live()
    states, agent = _run_command(local_broker, tmp_path, {})
    assert [s["status"] for s in states] == ["init", "executing", "renew", "activate", "check", "failed"], agent.log
    assert "false" in states[-1]["reason"] and "exit" in states[-1]["reason"], states[-1]["reason"]
    assert device.live() == before, "rolled back"
