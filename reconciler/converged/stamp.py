"""The stamp: what the last full run that ended converged rested its verdict on, beside the
desired-state file as `.<file name>.reconcile-stamp.json`.

It holds the tool version, the verdict (the run's JSON report and its one-line summary), the
window in which that verdict stays true without any input changing (from the certificate's
not-before to the earliest deadline: the renewal time, or any other the engine collected), where
the run's lock and history are, and one entry per input with the value measured then
(measures.py). It holds no secret: a one-time password's variable is recorded as set or unset.
A stamp that is missing, unreadable, of another format or version, or wrong in any field is no
stamp: the full engine runs.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Mapping, NamedTuple

from reconciler import __version__
from reconciler.basics.safe_read import read_regular
from reconciler.basics.timestamps import format_time, parse_time
from reconciler.converged.measures import MEASURES, measure

FORMAT = 1
TOOL = f"reconcile {__version__}"
SUFFIX = ".reconcile-stamp.json"
MAX_BYTES = 256 * 1024
# Measures checked before the lock is taken: they fix the desired state, so the lock it names.
SPEC_MEASURES = ("bytes", "env", "env_set")
OPTIONS = "options:"  # a desired state given inline (the Ansible module's options), by digest


class Stamp(NamedTuple):
    device_id: str
    desired_state: str  # absolute path of the desired-state file the verdict is for, or options:<sha256>
    config_dir: str  # absolute thin-edge config dir (tedge.toml's folder)
    lock: str  # the lock file a full run takes
    history: str  # the run history file
    not_before: datetime
    answer_until: datetime
    deadlines: dict  # name -> time text: what answer_until is the earliest of
    not_after: datetime
    summary: str
    report: dict
    inputs: list  # {"measure", "name", "value"[, "ignore"]}


def absolute(path) -> str:
    """`path` made absolute as the kernel follows it. os.path.abspath would drop `link/..` as text,
    where the kernel (and so the engine) follows the link first: the stamp would stand for another file."""
    return str(Path(os.getcwd(), path))


def stamp_path(desired_state: Path) -> Path:
    return desired_state.parent / f".{desired_state.name}{SUFFIX}"


def document(stamp: Stamp, written: str) -> dict:
    return {
        "format": FORMAT,
        "tool": TOOL,
        "written": written,
        "device_id": stamp.device_id,
        "desired_state": stamp.desired_state,
        "config_dir": stamp.config_dir,
        "lock": stamp.lock,
        "history": stamp.history,
        "not_before": format_time(stamp.not_before),
        "answer_until": format_time(stamp.answer_until),
        "deadlines": stamp.deadlines,
        "not_after": format_time(stamp.not_after),
        "summary": stamp.summary,
        "report": stamp.report,
        "inputs": stamp.inputs,
    }


def _text(data: dict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: expected a non-empty string")
    return value


def _absolute(data: dict, name: str) -> str:
    value = _text(data, name)
    if not value.startswith("/") or "\0" in value:
        raise ValueError(f"{name}: expected an absolute path")
    return value


def _source(data: dict) -> str:
    """The desired state's absolute path, or `options:<sha256>` of a face's inline options (Ansible)."""
    value = _text(data, "desired_state")
    digest = value.removeprefix(OPTIONS)
    if value.startswith(OPTIONS) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
        return value
    return _absolute(data, "desired_state")


def _time(data: dict, name: str) -> datetime:
    try:
        return parse_time(data.get(name))
    except ValueError:
        raise ValueError(f"{name}: expected a UTC time like 2026-06-01T12:00:00Z") from None


def _input(entry) -> dict:
    if not isinstance(entry, dict) or entry.get("measure") not in MEASURES:
        raise ValueError("inputs: an entry names no known measure")
    if not isinstance(entry.get("name"), str) or not entry["name"] or "\0" in entry["name"] or "value" not in entry:
        raise ValueError("inputs: an entry has no name or no value")
    ignore = entry.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(name, str) for name in ignore):
        raise ValueError("inputs: ignore: expected a list of names")
    return entry


def parse_stamp(data: bytes) -> Stamp:
    """A stamp from its file's bytes; ValueError naming the first thing that is wrong (another
    format or tool version included: a stamp is only ever read by the version that wrote it)."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    if doc.get("format") != FORMAT or isinstance(doc.get("format"), bool):
        raise ValueError(f"format: expected {FORMAT}")
    if doc.get("tool") != TOOL:
        raise ValueError(f"tool: written by another version, not {TOOL}")
    deadlines, report, inputs = doc.get("deadlines"), doc.get("report"), doc.get("inputs")
    if not isinstance(deadlines, dict) or not deadlines or not all(isinstance(v, str) for v in deadlines.values()):
        raise ValueError("deadlines: expected an object of times")
    if not isinstance(report, dict) or report.get("status") != "converged":
        raise ValueError("report: expected the report of a converged run")
    before = report.get("before")
    if not isinstance(before, dict) or not isinstance(before.get("certificate"), dict):
        raise ValueError("report: expected the certificate's facts under before.certificate")
    if not isinstance(inputs, list) or not inputs:
        raise ValueError("inputs: expected a list")
    stamp = Stamp(
        device_id=_text(doc, "device_id"),
        desired_state=_source(doc),
        config_dir=_absolute(doc, "config_dir"),
        lock=_absolute(doc, "lock"),
        history=_absolute(doc, "history"),
        not_before=_time(doc, "not_before"),
        answer_until=_time(doc, "answer_until"),
        deadlines=deadlines,
        not_after=_time(doc, "not_after"),
        summary=_text(doc, "summary"),
        report=report,
        inputs=[_input(entry) for entry in inputs],
    )
    if stamp.answer_until > stamp.not_after or min(map(parse_time, deadlines.values())) != stamp.answer_until:
        raise ValueError("answer_until: not the earliest deadline before not_after")
    return stamp


def read_stamp(path: Path) -> Stamp | None:
    """The stamp at `path`; None when there is none or it cannot be trusted: a link (we write none),
    or a file another user wrote or could have written (its verdict would then be theirs to choose)."""
    try:
        if os.path.islink(path):
            return None
        return parse_stamp(read_regular(path, MAX_BYTES, own_only=True))
    except (OSError, ValueError):
        return None


def first_difference(stamp: Stamp, environ: Mapping[str, str], measures: tuple[str, ...] | None = None) -> str | None:
    """The first input (of `measures`, default all) whose value is no longer the recorded one, or None."""
    for entry in stamp.inputs:
        if measures is not None and entry["measure"] not in measures:
            continue
        if measure(entry, environ) != entry["value"]:
            return f"{entry['measure']} {entry['name']}"
    return None


def in_window(stamp: Stamp, now: datetime) -> bool:
    """Whether the verdict still holds at `now`: not before the certificate's start, before the earliest deadline."""
    return stamp.not_before <= now < stamp.answer_until
