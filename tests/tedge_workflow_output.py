"""Reading what a workflow step printed for the agent: the JSON between :::begin-tedge::: and :::end-tedge:::."""

from __future__ import annotations

import json
import re

_BLOCK = re.compile(r":::begin-tedge:::\n(.*?)\n:::end-tedge:::", re.S)


def step_output(stdout: str) -> dict:
    (block,) = _BLOCK.findall(stdout)
    return json.loads(block)
