"""thin-edge's operation templates (`/etc/tedge/operations/c8y/<Name>.template`) and its `${.payload.x}`
substitution, as the mapper stand-in reads them.

Substitution (thin-edge docs, operation-workflow.md): a string that is exactly one `${.payload.a.b}`
stands for the JSON value at that path; inside a longer string each `${...}` is replaced by the
value's text; an unknown path is "".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from c8y_emulator.query import MISSING, lookup

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

NOTIFICATIONS = "c8y/devicecontrol/notifications"
TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_]+")
_REFERENCE = re.compile(r"\$\{\.([A-Za-z0-9_.\-]*)\}")

def substitute(template, context: dict):
    """`template` (a string, or a table of them) evaluated against `context` ({"payload": ..., "topic": ...})."""
    if isinstance(template, dict):
        return {key: substitute(value, context) for key, value in template.items()}
    if not isinstance(template, str):
        return template
    whole = _REFERENCE.fullmatch(template)
    if whole:
        found = lookup(context, whole.group(1))
        return "" if found is MISSING else found
    return substitute_text(template, context)


def substitute_text(text: str, context: dict) -> str:
    """Every `${.a.b}` in `text` replaced: strings as they are, other JSON values as JSON text, unknown paths as ""."""
    def value(match):
        found = lookup(context, match.group(1))
        if found is MISSING:
            return ""
        return found if isinstance(found, str) else json.dumps(found)

    return _REFERENCE.sub(value, text)


@dataclass(frozen=True)
class Template:
    name: str  # the file name without .template: the name in c8y_SupportedOperations
    on_fragment: str
    operation: str  # the workflow (thin-edge command) it starts
    input: object  # a `${...}` string or a table
    output: object | None


def load_templates(config_dir: Path) -> dict[str, Template]:
    """The valid workflow templates under <config_dir>/operations/c8y, by name; others are skipped as
    the mapper skips them (wrong file name, not TOML, another topic, no workflow)."""
    found = {}
    folder = config_dir / "operations" / "c8y"
    for path in sorted(folder.glob("*.template")) if folder.is_dir() else []:
        name = path.name[: -len(".template")]
        if not TEMPLATE_NAME.fullmatch(name):
            continue
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        exec_table = data.get("exec")
        workflow = exec_table.get("workflow") if isinstance(exec_table, dict) else None
        if not isinstance(workflow, dict) or exec_table.get("topic", NOTIFICATIONS) != NOTIFICATIONS:
            continue
        fragment, operation = exec_table.get("on_fragment"), workflow.get("operation")
        if isinstance(fragment, str) and isinstance(operation, str) and "input" in workflow:
            found[name] = Template(name, fragment, operation, workflow["input"], workflow.get("output"))
    return found
