"""The certificate module's options and the desired state's model describe the same tree.

The options are derived here from the JSON Schema that the pydantic models generate (the one
`reconcile schema` prints), and compared with the module's argument spec: a key added to the model
cannot be missing from the module, nor the other way round. (validate-modules in turn checks the
module's documentation against its argument spec.)
"""

from __future__ import annotations

import pytest

from reconciler.desired.schema import desired_state_schema

pytestmark = pytest.mark.usefixtures("collection_imports")

# Options of the module that the desired-state file does not have, on purpose.
MODULE_ONLY = {"state_file", "config_dir", "enrollment.one_time_password"}


def option_from_schema(prop: dict, defs: dict) -> dict:
    """The Ansible option a JSON Schema property maps to: type, choices, elements, suboptions."""
    if "$ref" in prop:
        section = defs[prop["$ref"].rsplit("/", 1)[-1]]
        return {"type": "dict", "options": {k: option_from_schema(v, defs) for k, v in section["properties"].items()}}
    alternatives = [alt for alt in prop.get("anyOf", [prop]) if alt.get("type") != "null"]
    if len(alternatives) > 1:
        return {"type": "raw"}  # text or a number (durations, modes): passed through to the engine
    (alt,) = alternatives
    if "anyOf" in alt:
        return option_from_schema(alt, defs)
    kind = alt["type"]
    if kind == "array":
        return {"type": "list", "elements": option_from_schema(alt["items"], defs)["type"]}
    if kind == "string" and alt.get("format") == "path":
        return {"type": "path"}
    if kind == "string" and "enum" in alt:
        return {"type": "str", "choices": alt["enum"]}
    return {"type": {"string": "str", "integer": "int", "boolean": "bool"}[kind]}


def shape(spec: dict, prefix: str = "") -> dict:
    """An argument spec reduced to what the schema can say, without the module-only options."""
    out = {}
    for name, option in spec.items():
        if f"{prefix}{name}" in MODULE_ONLY:
            continue
        entry = {key: option[key] for key in ("type", "choices", "elements") if key in option}
        if "options" in option:
            entry["options"] = shape(option["options"], f"{prefix}{name}.")
        out[name] = entry
    return out


def module_spec() -> dict:
    from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._desired_state_options import (
        desired_state_argument_spec,
    )

    return desired_state_argument_spec()


def options_from_model() -> dict:
    schema = desired_state_schema()
    return {name: option_from_schema(prop, schema["$defs"]) for name, prop in schema["properties"].items()}


def test_every_key_of_the_desired_state_is_an_option_of_the_same_type_and_back():
    assert shape(module_spec()) == options_from_model()


def test_the_comparison_notices_a_missing_key():
    spec = module_spec()
    del spec["paths"]["options"]["backup_keep"]
    assert shape(spec) != options_from_model()


def test_module_only_options_exist():
    """The exceptions above name real options, so that a rename cannot widen them silently."""
    spec = module_spec()
    for dotted in MODULE_ONLY:
        node = spec
        *parents, leaf = dotted.split(".")
        for parent in parents:
            node = node[parent]["options"]
        assert leaf in node
