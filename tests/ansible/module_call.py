"""Run a module's main() in this process, as AnsiballZ would on the host, and read its JSON answer."""

from __future__ import annotations

import contextlib
import importlib
import io
import json

import pytest


def call_module(name: str, args: dict, *, check_mode: bool = False, diff: bool = False) -> tuple[bool, dict]:
    """(failed, result) of tedge_cert.c8y_ca.<name> with `args` (needs the collection_imports fixture)."""
    from ansible.module_utils.testing import patch_module_args

    module = importlib.import_module(f"ansible_collections.tedge_cert.c8y_ca.plugins.modules.{name}")
    out = io.StringIO()
    internal = {"_ansible_check_mode": check_mode, "_ansible_diff": diff}
    with patch_module_args({**args, **internal}), contextlib.redirect_stdout(out), pytest.raises(SystemExit) as ended:
        module.main()
    result = json.loads(out.getvalue())
    assert ended.value.code == (1 if result.get("failed") else 0)
    return bool(result.get("failed")), result
