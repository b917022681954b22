"""The committed JSON Schema is the models' own, and every example validates against it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from reconciler.desired.model import DesiredState
from reconciler.desired.schema import desired_state_schema, desired_state_schema_text
from tests.conftest import RECONCILE, ROOT

SCHEMA_FILE = ROOT / "schemas" / "desired-state.schema.json"
EXAMPLES = sorted((ROOT / "examples").rglob("*.yaml"))
DESIRED_STATE_EXAMPLES = [p for p in EXAMPLES if "playbook" not in p.name and "inventory" not in p.parts]


def test_committed_schema_matches_the_models():
    assert SCHEMA_FILE.read_text() == desired_state_schema_text(), "run: reconcile schema > schemas/desired-state.schema.json"


def test_schema_command_prints_the_committed_schema():
    run = subprocess.run([*RECONCILE, "schema"], capture_output=True, text=True, check=True)
    assert run.stdout == SCHEMA_FILE.read_text()


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(desired_state_schema())


def test_the_readmes_full_example_is_validated_and_sets_every_section():
    full = ROOT / "examples" / "desired-state.yaml"
    assert full in DESIRED_STATE_EXAMPLES and "(examples/desired-state.yaml)" in (ROOT / "README.md").read_text()
    assert set(desired_state_schema()["properties"]) - set(yaml.safe_load(full.read_text())) == set()


@pytest.mark.parametrize("path", DESIRED_STATE_EXAMPLES, ids=lambda p: p.name)
def test_example_validates_against_schema_and_models(path: Path):
    data = yaml.safe_load(path.read_text())
    jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))
    DesiredState.model_validate(data)


@pytest.mark.parametrize(
    "data",
    [
        {"device_id": "gw-1", "extra": 1},
        {"device_id": "gw 1"},
        {"device_id": "gw-1", "key": {"algorithm": "dsa"}},
        {"device_id": "gw-1", "validity": {"renew_before": "soon"}},
        {"device_id": "gw-1", "paths": {"key_mode": "999"}},
        {},
    ],
)
def test_schema_and_models_both_reject(data):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, desired_state_schema())
    with pytest.raises(ValueError):
        DesiredState.model_validate(data)
