"""A stand-in for tedge-agent's workflow engine: enough of it to run a workflow file such as
certificate_renew.toml. Not thin-edge's agent; what it does:

- capabilities: for each `<config_dir>/operations/<op>.toml` it publishes `{}` retained on
  `<root>/<device>/cmd/<op>` when it connects (files added later are not seen);
- commands: it subscribes to `<root>/<device>/cmd/+/+`; a retained JSON command whose `status` names a
  state of the operation's workflow is moved on by that state's step, and every new state is published
  retained (QoS 1) on the same topic with the payload so far; an empty payload forgets the command;
- steps: `action = "proceed"` (to on_success), `action = "cleanup"` (nothing: the requester clears the
  topic), `script` (run without a shell, arguments split as a shell would; exit 0 → on_success or
  on_exit.0, exit N → on_exit.N, else on_error; on_error is a state, or {status, reason}; a missing
  on_error fails with a reason naming the exit code), `background_script` (the on_exec state is
  published first, then the script is started and not waited for);
- output: a JSON object printed between `:::begin-tedge:::` and `:::end-tedge:::` is merged into the
  payload; after a failure a `reason` printed by the script wins over the workflow's;
- substitution in commands: `${.payload.a.b}` (strings as they are, other JSON values as JSON text,
  unknown paths as ""), `${.topic.cmd_id}`, `${.topic.operation}`, `${.topic.target}`.

What it does not do: timeouts (`timeout_second`, `on_timeout`), `on_kill`, `on_stdout`, exit-code
ranges (`on_exit.2-5`), sub-operations (`operation = ...`, `await-operation-completion`),
`await-agent-restart`, the built-in operations (software, config, log, restart), child devices,
persistence of commands across its own restarts, running scripts as another user, or noticing
workflow files added while it runs. A state already handled for a command is not handled again when
its message is delivered again (after a reconnect), so a workflow that loops back is not supported.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import shlex
import subprocess
import threading
from pathlib import Path

import paho.mqtt.client as mqtt

from c8y_emulator.stand_ins.templates import substitute_text

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

log = logging.getLogger("c8y_emulator.agent")
BEGIN, END = ":::begin-tedge:::", ":::end-tedge:::"
_OUTPUT = re.compile(re.escape(BEGIN) + r"\s*\n(.*?)\n\s*" + re.escape(END), re.S)
SCRIPT_TIMEOUT = 600  # a bound for tests, not a thin-edge setting


def load_workflows(config_dir: Path) -> dict[str, dict]:
    """The workflows under <config_dir>/operations, by operation name; files that do not parse are skipped."""
    found = {}
    for path in sorted((config_dir / "operations").glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if isinstance(data.get("operation"), str):
            found[data["operation"]] = data
    return found


def script_output(stdout: str) -> dict:
    """The object a script printed for the agent, or {} (nothing, or not an object)."""
    found = _OUTPUT.findall(stdout)
    if not found:
        return {}
    try:
        value = json.loads(found[-1])
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _transition(target, payload: dict, default_reason: str) -> dict:
    """The payload moved to `target`: a state name, or {status, reason}."""
    if isinstance(target, dict):
        moved = {**payload, "status": target.get("status", "failed")}
        if "reason" in target and "reason" not in payload:
            moved["reason"] = target["reason"]
        return moved
    if target is None:
        return {**payload, "status": "failed", "reason": payload.get("reason", default_reason)}
    return {**payload, "status": target}


class AgentStandIn:
    def __init__(self, broker: tuple[str, int], config_dir: Path, topic_root: str = "te",
                 device_topic_id: str = "device/main//", env: dict | None = None):
        self.broker, self.config_dir, self.env = broker, config_dir, env
        self.target, self.prefix = device_topic_id, f"{topic_root}/{device_topic_id}"
        self.workflows = load_workflows(config_dir)
        self.handled: dict[str, str] = {}  # command topic → the last state handled
        self.log: list[str] = []  # what it did, in words, for tests and people reading a failure
        self.background: list[subprocess.Popen] = []
        self._inbox: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="tedge-agent-stand-in")
        self._client.on_connect = self._on_connect
        self._client.on_message = lambda _c, _u, message: self._inbox.put((message.topic, bytes(message.payload)))
        self._worker = threading.Thread(target=self._work, name="agent-stand-in", daemon=True)

    # --- life cycle ---------------------------------------------------------------------------------

    def start(self) -> "AgentStandIn":
        self._client.reconnect_delay_set(0.1, 1)  # `tedge reconnect c8y` restarts the broker under it
        self._client.connect_async(*self.broker)
        self._client.loop_start()
        self._worker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._worker.join(timeout=10)
        self._client.loop_stop()
        self._client.disconnect()
        for process in self.background:
            if process.poll() is None:
                process.wait(timeout=SCRIPT_TIMEOUT)

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc):
        self.stop()

    def _note(self, text: str) -> None:
        self.log.append(text)
        log.info("%s", text)

    def _on_connect(self, client, _userdata, _flags, reason, _properties):
        if reason.is_failure:
            return
        client.subscribe(f"{self.prefix}/cmd/+/+", qos=1)
        for operation in self.workflows:  # the capability: the mapper adds it to c8y_SupportedOperations
            client.publish(f"{self.prefix}/cmd/{operation}", b"{}", qos=1, retain=True)

    # --- the loop: one command step at a time, in the order the messages came -----------------------

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                topic, payload = self._inbox.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                self._on_command(topic, payload)
            except Exception as err:  # a stand-in must keep serving the other commands
                self._note(f"{topic}: error: {type(err).__name__}: {err}")

    def _on_command(self, topic: str, raw: bytes) -> None:
        operation, cmd_id = topic[len(self.prefix) + len("/cmd/"):].split("/", 1)
        if not raw:
            self.handled.pop(topic, None)
            return
        workflow = self.workflows.get(operation)
        try:
            payload = json.loads(raw)
        except ValueError:
            return
        if workflow is None or not isinstance(payload, dict):
            return
        status = payload.get("status")
        state = workflow.get(status) if isinstance(status, str) else None
        if not isinstance(state, dict) or self.handled.get(topic) == status:
            return
        self.handled[topic] = status
        context = {"payload": payload, "topic": {"cmd_id": cmd_id, "operation": operation, "target": self.target}}
        moved = self._step(topic, status, state, payload, context)
        if moved is not None:
            self._note(f"{operation}/{cmd_id}: {status} → {moved['status']}")
            self._client.publish(topic, json.dumps(moved).encode(), qos=1, retain=True)

    def _step(self, topic: str, status: str, state: dict, payload: dict, context: dict) -> dict | None:
        """The command after `state`'s step, or None when the step leaves it as it is."""
        if "action" in state:
            if state["action"] == "proceed":
                return _transition(state.get("on_success"), payload, f"{status}: proceed without on_success")
            return None  # cleanup: the requester clears the topic
        if "background_script" in state:
            command = shlex.split(substitute_text(state["background_script"], context))
            moved = _transition(state.get("on_exec"), payload, f"{status}: background_script without on_exec")
            self._client.publish(topic, json.dumps(moved).encode(), qos=1, retain=True).wait_for_publish(5)
            self._note(f"{topic}: {status}: started in the background: {command[0]}")
            self.background.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                    env=self.env, start_new_session=True))
            return None  # already published
        if "script" in state:
            return self._run_script(status, state, payload, context)
        return _transition(None, payload, f"{status}: a step this stand-in does not run")

    def _run_script(self, status: str, state: dict, payload: dict, context: dict) -> dict:
        command = shlex.split(substitute_text(state["script"], context))
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=self.env, timeout=SCRIPT_TIMEOUT)
        except OSError as err:
            return _transition(state.get("on_error"), {**payload, "reason": f"{command[0]}: {err.strerror}"}, "")
        self._note(f"{status}: {command[0]} exited {done.returncode}; stderr: {done.stderr.strip()[-300:]}")
        output = script_output(done.stdout)
        exits = state.get("on_exit", {}) if isinstance(state.get("on_exit"), dict) else {}
        if done.returncode == 0:
            target = state.get("on_success", exits.get("0"))
            merged = {**payload, **output}
            return merged if target is None and "status" in output else _transition(target, merged, "")
        target = exits.get(str(done.returncode), state.get("on_error"))
        failed = {**payload, **output}
        if "reason" not in output:
            failed.pop("reason", None)
        return _transition(target, failed, f"{status}: {command[0]} exited with {done.returncode}")
