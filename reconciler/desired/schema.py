"""The published JSON Schema of the desired state, generated from the pydantic models."""

from __future__ import annotations

import json

from reconciler.desired.model import DesiredState

SCHEMA_ID = "https://tedge-cert-reconciler.invalid/schemas/desired-state.schema.json"


def desired_state_schema() -> dict:
    schema = DesiredState.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def desired_state_schema_text() -> str:
    return json.dumps(desired_state_schema(), indent=2, sort_keys=True) + "\n"
