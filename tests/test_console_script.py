"""The installed `reconcile` keeps the cyclic collector away from what it loads (cli.main.console_script).

Each case runs in a process of its own, as the script does: freezing the collector inside the
test process would leak into every later test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent

# A stand-in command module records what the collector looked like while it loaded and ran.
PROBE = """
import gc, json, os, sys, types
from reconciler.cli import main as entry

seen = {}
kept = []

def command(argv):
    seen["enabled_while_loading"] = gc.isenabled()
    seen["plugins_while_loading"] = os.environ.get("PYDANTIC_DISABLE_PLUGINS")
    module = types.SimpleNamespace(parser=None, run=None)
    def run(args):
        seen["enabled_while_running"] = gc.isenabled()
        seen["plugins_while_running"] = os.environ.get("PYDANTIC_DISABLE_PLUGINS")
        seen["frozen_while_running"] = gc.get_freeze_count()
        cycle = []
        cycle.append(cycle)  # garbage only the collector can free
        del cycle
        seen["collected_while_running"] = gc.collect(0)
        kept.extend([index] for index in range(1000))  # lives until exit, as a run's results do
        return 5
    class Parser:
        def parse_args(self, arguments):
            return types.SimpleNamespace(verbose=0, log_format="text")
    module.parser, module.run = Parser, run
    return module, argv

entry._command = command
code = entry.console_script()
seen["code"] = code
seen["tracked_at_exit"] = len(gc.get_objects())
seen["frozen_at_exit"] = gc.get_freeze_count()
print(json.dumps(seen))
"""


def probe(environ: dict[str, str] | None = None) -> dict:
    env = {name: value for name, value in os.environ.items() if name != "PYDANTIC_DISABLE_PLUGINS"}
    out = subprocess.run([sys.executable, "-c", PROBE, "show"], capture_output=True, text=True, cwd=ROOT, check=True,
                         env={**env, **(environ or {})})
    return json.loads(out.stdout)


def test_the_collector_is_off_while_loading_and_on_while_running():
    seen = probe()
    assert seen["code"] == 5
    assert seen["enabled_while_loading"] is False
    assert seen["enabled_while_running"] is True
    assert seen["frozen_while_running"] > 1000  # what was loaded is out of its sight
    assert seen["collected_while_running"] >= 1  # a long run still frees its own cycles


def test_nothing_is_left_for_the_collector_at_exit():
    seen = probe()
    assert seen["frozen_at_exit"] > 1000
    assert seen["tracked_at_exit"] < 100  # everything alive is frozen: teardown traces nothing


def test_the_installed_script_and_python_m_use_it():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["reconcile"] == "reconciler.cli.main:console_script"
    assert "console_script()" in (ROOT / "reconciler" / "__main__.py").read_text()


def test_pydantic_plugins_are_off_while_loading_and_the_environment_is_as_given_for_the_run():
    seen = probe()
    assert seen["plugins_while_loading"] == "__all__"
    assert seen["plugins_while_running"] is None  # what activation commands and tedge inherit


def test_a_choice_of_pydantic_plugins_by_the_caller_is_kept():
    seen = probe({"PYDANTIC_DISABLE_PLUGINS": "logfire"})
    assert seen["plugins_while_loading"] == seen["plugins_while_running"] == "logfire"
