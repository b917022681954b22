"""The workflow and template under examples/tedge/ against thin-edge's rules (docs and mapper code,
see /work/shared/tedge-operations.md): they parse, name each other, have the required states, and
the template's input evaluates to a JSON object for every operation the tenant may send."""

from __future__ import annotations

import re
import sys

import pytest

from reconciler.cli.tedge_operation_files import FRAGMENT, OPERATION, template_toml, workflow_toml
from tests.conftest import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXAMPLES = ROOT / "examples" / "tedge"
WORKFLOW = EXAMPLES / "certificate_renew.toml"
TEMPLATE = EXAMPLES / "c8y_RenewCertificate.template"
STEP_KINDS = ("script", "background_script", "action", "operation")
# What the tenant may send: the fragment with or without its parameter.
C8Y_OPERATIONS = [{"id": "42", FRAGMENT: {}}, {"id": "43", FRAGMENT: {"rotateKey": True}},
                  {"id": "44", FRAGMENT: {"rotateKey": False}}]


def _path(document, path: str):
    """thin-edge's `${.payload.a.b}`: the value at a.b, or "" when there is none."""
    node = document
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return ""
        node = node[part]
    return node


def _evaluate(expression: str, payload: dict):
    whole = re.fullmatch(r"\$\{\.payload\.([A-Za-z0-9_.]+)\}", expression)
    assert whole, f"not a payload path: {expression}"
    return _path(payload, whole.group(1))


def test_the_examples_are_what_install_operation_writes():
    assert WORKFLOW.read_text() == workflow_toml()
    assert TEMPLATE.read_text() == template_toml()


def test_the_template_follows_the_mappers_rules():
    template = tomllib.loads(TEMPLATE.read_text())
    assert re.fullmatch(r"[A-Za-z0-9_]+", TEMPLATE.stem) and TEMPLATE.suffix == ".template"
    assert template["exec"]["topic"] == "c8y/devicecontrol/notifications"
    assert template["exec"]["on_fragment"] == FRAGMENT == TEMPLATE.stem
    workflow = template["exec"]["workflow"]
    assert workflow["operation"] == OPERATION == tomllib.loads(WORKFLOW.read_text())["operation"]
    for operation in C8Y_OPERATIONS:
        assert isinstance(_evaluate(workflow["input"], operation), dict), "the mapper drops an input that is no object"
    assert isinstance(_evaluate(workflow["output"], {"result": "certificate serial 01 valid until …"}), str)


def test_the_workflow_follows_the_agents_rules():
    workflow = tomllib.loads(WORKFLOW.read_text())
    assert WORKFLOW.stem == workflow["operation"] == OPERATION
    states = {name: body for name, body in workflow.items() if isinstance(body, dict)}
    assert {"init", "executing", "successful", "failed"} <= set(states), "executing: the mapper reports EXECUTING"
    for name, state in states.items():
        kinds = [kind for kind in STEP_KINDS if kind in state]
        assert len(kinds) == 1, f"{name}: exactly one of {STEP_KINDS}"
        if "background_script" in state:
            assert state.get("on_exec") in states, f"{name}: a background script names the state saved before it runs"
        targets = [state.get(key) for key in ("on_success", "on_exec") if key in state]
        targets += [state["on_error"]] if isinstance(state.get("on_error"), str) else []
        for target in targets:
            assert target in states, f"{name}: goes to {target!r}, which is no state"
        if isinstance(state.get("on_error"), dict):
            assert state["on_error"]["status"] in states
    assert states["successful"] == {"action": "cleanup"} and states["failed"] == {"action": "cleanup"}


@pytest.mark.parametrize("state, fields", [("renew", {"rotateKey"}), ("check", {"stagedSerial", "stagedRun"})])
def test_each_step_reads_only_what_the_input_or_an_earlier_step_provides(state, fields):
    script = tomllib.loads(WORKFLOW.read_text())[state]["script"]
    assert set(re.findall(r"\$\{\.payload\.([A-Za-z0-9_]+)\}", script)) == fields
    assert "=${" in script, "--option=${...}: an empty value stays one argument"
