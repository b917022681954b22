"""Run a module's main() in this process, as AnsiballZ would on the host, and read its JSON answer."""

from __future__ import annotations

import contextlib
import importlib
import io
import json

import pytest

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19: the arguments AnsibleModule reads, set by hand
    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


def call_module(name: str, args: dict, *, check_mode: bool = False, diff: bool = False) -> tuple[bool, dict]:
    """(failed, result) of tedge_cert.c8y_ca.<name> with `args` (needs the collection_imports fixture)."""
    module = importlib.import_module(f"ansible_collections.tedge_cert.c8y_ca.plugins.modules.{name}")
    out = io.StringIO()
    internal = {"_ansible_check_mode": check_mode, "_ansible_diff": diff}
    with patch_module_args({**args, **internal}), contextlib.redirect_stdout(out), pytest.raises(SystemExit) as ended:
        module.main()
    result = json.loads(out.getvalue())
    assert ended.value.code == (1 if result.get("failed") else 0)
    return bool(result.get("failed")), result
