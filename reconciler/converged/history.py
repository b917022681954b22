"""A converged run recorded in the run history, the way reconciler.runs.run_history records one
(same file, same format, same transition), for the answer from the stamp.

Only a history with nothing pending is advanced here: no failure since the last success, no
backoff, no wait asked by the tenant. Any other history, or one this reader cannot vouch for
(corrupt, another device's, a link), is left to the full engine, which warns and decides.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from reconciler.basics.atomic_files import write_atomic
from reconciler.basics.safe_read import read_regular
from reconciler.basics.timestamps import format_time, parse_time

FORMAT = 1
MAX_BYTES = 64 * 1024
MAX_MESSAGE = 1000
FILE_MODE = 0o644
STATUSES = ("converged", "changed", "blocked", "failed", "interrupted", "backoff")


class NotForTheStamp(Exception):
    """The history needs the full engine."""


class Recorded(NamedTuple):
    """What the metrics file shows of the history once this run is recorded."""

    last_success: datetime
    consecutive_failures: int = 0
    backoff_until: datetime | None = None


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise NotForTheStamp(what)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_time(value) -> bool:
    try:
        parse_time(value)
        return True
    except ValueError:
        return False


def _is_text(value) -> bool:
    return isinstance(value, str) and len(value) <= MAX_MESSAGE


def _check_run(run, fields: tuple[str, ...]) -> None:
    """A last_run or last_failure object as history_codec.parse_history accepts it."""
    if run is None:
        return
    _check(isinstance(run, dict), "not an object")
    _check(_is_time(run.get("time")) and _is_int(run.get("exit_code")) and 0 <= run["exit_code"] <= 255, "bad run")
    for name in fields:
        _check(_is_text(run.get(name)), f"bad {name}")


def _check_request(request) -> None:
    """A last_request object (an explicit renewal, kept as a record) as history_codec.parse_history accepts it."""
    if request is None:
        return
    _check(isinstance(request, dict) and _is_time(request.get("time")), "bad last_request")
    _check(request.get("status") in ("completed", "failed"), "bad last_request.status")
    _check(isinstance(request.get("rotate_key", False), bool), "bad last_request.rotate_key")


def clean_history(document, device_id: str) -> dict:
    """The parsed history when it is valid, this device's, and has nothing pending; NotForTheStamp otherwise."""
    _check(isinstance(document, dict), "not an object")
    _check(document.get("format") == FORMAT and not isinstance(document.get("format"), bool), "format")
    _check(document.get("device_id") == device_id, "another device")
    _check_run(document.get("last_run"), ("status",))
    _check(document.get("last_run") is None or document["last_run"]["status"] in STATUSES, "status")
    _check_run(document.get("last_failure"), ("reason", "message"))
    for name in ("last_success", "backoff_until", "tenant_wait_until"):
        _check(document.get(name) is None or _is_time(document[name]), name)
    for name in ("backoff_reason", "backoff_digest"):
        _check(document.get(name) is None or _is_text(document[name]), name)
    for name in ("consecutive_failures", "tenant_failures"):
        _check(name not in document or (_is_int(document[name]) and document[name] >= 0), name)
    _check(document.get("twin_digest") is None or _is_text(document["twin_digest"]), "twin_digest")
    _check(document.get("twin_published") is None or _is_time(document["twin_published"]), "twin_published")
    _check_request(document.get("last_request"))
    pending = (document.get("consecutive_failures", 0), document.get("backoff_until"), document.get("tenant_wait_until"))
    _check(pending == (0, None, None), "a failure or backoff is pending")
    return document


def converged_history(previous: dict | None, device_id: str, now: datetime) -> dict:
    """The file's content after a converged run at `now` (run_history.after_run and history_codec.history_dict)."""
    when = format_time(now.replace(microsecond=0))
    failure = None if previous is None else previous.get("last_failure")
    return {
        "format": FORMAT,
        "device_id": device_id,
        "last_run": {"time": when, "status": "converged", "exit_code": 0},
        "last_success": when,
        "consecutive_failures": 0,
        "last_failure": None if failure is None else {
            "time": failure["time"], "reason": failure["reason"], "exit_code": failure["exit_code"],
            "message": failure["message"],
        },
        "backoff_until": None,
        "tenant_failures": 0,
        "backoff_reason": None,
        "backoff_digest": None,
        "tenant_wait_until": None,
        # records a converged run leaves as they were: the last explicit request, the twin last published
        **{name: None if previous is None else previous.get(name) for name in ("last_request", "twin_digest", "twin_published")},
    }


def previous_history(path: Path, device_id: str) -> dict | None:
    """The history at `path` when it may be advanced here (None: there is none yet); NotForTheStamp otherwise."""
    try:
        return clean_history(json.loads(read_regular(path, MAX_BYTES)), device_id)
    except FileNotFoundError:
        _check(not os.path.islink(path), "a link to nothing")
        return None
    except (OSError, ValueError, RecursionError) as err:
        raise NotForTheStamp(str(err)) from None


def record_converged(path: Path, device_id: str, now: datetime) -> Recorded:
    """Advance the history at `path` by one converged run (call it under the lock)."""
    previous = previous_history(path, device_id)
    text = json.dumps(converged_history(previous, device_id, now), indent=2) + "\n"
    write_atomic(path, text.encode(), FILE_MODE, durable=False)  # as run_history writes it: no fsync per run
    return Recorded(now.replace(microsecond=0))
