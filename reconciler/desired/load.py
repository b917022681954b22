"""Read a desired-state YAML file into a validated DesiredState, or fail with one line per problem.

Each problem names the file, the line (where YAML knows it), the field path and the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import ValidationError

from reconciler.basics.errors import BadInput
from reconciler.basics.limits import MAX_STATE_BYTES
from reconciler.basics.safe_read import FileRefused, read_regular
from reconciler.desired.model import DesiredState

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader: fast, and no Python recursion


class _UniqueKeyLoader(SAFE_LOADER):  # type: ignore[misc, valid-type]
    """A safe loader that refuses duplicate keys: the second of two would silently win otherwise."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _UniqueKeyLoader.construct_mapping)


def _yaml_error(path: Path, err: yaml.YAMLError) -> BadInput:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    where = f"{path}:{mark.line + 1}" if mark else str(path)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    return BadInput(f"{where}: not valid YAML: {problem}")


def _line_of(text: str, loc: tuple) -> int | None:
    """The line a field path points at, found by composing the YAML once more (error path only)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):  # the pure-Python composer recurses where libyaml did not
        return None
    line = node.start_mark.line + 1 if node else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((kv for kv in node.value if kv[0].value == part), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _describe(error: dict) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "string_pattern_mismatch" and error["loc"][-1] == "device_id":
        return "must be 1 to 64 letters, digits or _ . : @ -, starting with a letter or digit"
    if kind == "tuple_type":
        return "must be a list, such as [tedge, reconnect, c8y]"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; see `reconcile schema`)"
    if kind == "missing":
        return "required field is missing"
    if kind == "literal_error":
        return msg.replace("Input should be", "must be")
    return msg.removeprefix("Value error, ").replace("Input should be", "must be")


def field_problem(error: dict) -> str:
    """`field: reason` for one pydantic error (the Ansible modules show it without a file)."""
    field = ".".join(str(part) for part in error["loc"]) or "(top level)"
    return f"{field}: {_describe(error)}"


def validation_problems(path: Path, text: str, err: ValidationError) -> list[str]:
    problems = []
    for error in err.errors():
        line = _line_of(text, tuple(error["loc"]))
        where = f"{path}:{line}" if line else str(path)
        problems.append(f"{where}: {field_problem(error)}")
    return problems


def read_text_file(path: Path, limit: int, what: str, own_only: bool = False) -> str:
    """A small UTF-8 text file, read safely (no FIFO, device or directory; bounded; with `own_only`
    written by no other user); BadInput otherwise."""
    try:
        return read_regular(path, limit, own_only).decode("utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: {what} not found") from None
    except FileRefused as err:
        raise BadInput(f"{path}: {err.reason}; expected a {what}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text") from None
    except OSError as err:
        raise BadInput(f"{path}: cannot read: {err.strerror}") from None


def load_desired_state(path: Path, check_owner: bool = True) -> DesiredState:
    """The desired state in `path`. Run as root, the file must be root's and written by no one else
    (not_own): it names the files root writes and the activation command root runs. `reconcile
    validate` (check_owner=False) only reads it."""
    own_only = check_owner and os.geteuid() == 0
    text = read_text_file(path, MAX_STATE_BYTES, "desired-state file", own_only)
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except (yaml.YAMLError, ValueError, TypeError, AttributeError, IndexError, RecursionError) as err:  # !!float x, [a]: 1, ...
        raise _yaml_error(path, err) from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a mapping of settings (device_id: ..., paths: ...), got {type(data).__name__}")
    try:
        return DesiredState.model_validate(data)
    except ValidationError as err:
        raise BadInput("\n".join(validation_problems(path, text, err))) from None
