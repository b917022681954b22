"""Test-only callback: every task result, one JSON line each, to the file in $RECORD_RESULTS_FILE.

The tests read outcomes from here instead of parsing the human output, and grep it for secrets.
"""

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: record_results
type: aggregate
short_description: every task result as a JSON line, for the tests
description: Writes one JSON object per task result to the file named by RECORD_RESULTS_FILE.
"""


def _public(result, name):
    return getattr(result, name) if hasattr(type(result), name) else getattr(result, "_" + name)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record_results"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, outcome, result):
        # ansible-core 2.19 made host, task and result public; 2.16-2.18 have only the private names.
        host, task = _public(result, "host"), _public(result, "task")
        line = {
            "host": host.name,
            "task": task.get_name(),
            "action": task.action,
            "outcome": outcome,
            "result": _public(result, "result"),
        }
        with open(os.environ["RECORD_RESULTS_FILE"], "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._record("changed" if _public(result, "result").get("changed") else "ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record("failed", result)

    def v2_runner_on_skipped(self, result):
        self._record("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._record("unreachable", result)
