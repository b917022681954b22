"""The run history as JSON: what the file holds and `reconcile status --output json` prints, and
the strict reading of it back (a field of the wrong kind is named; unknown keys are ignored, so
that later versions can add fields)."""

from __future__ import annotations

import json
from datetime import datetime

from reconciler.basics.timestamps import format_time, parse_time
from reconciler.runs.run_history import (
    MAX_MESSAGE,
    REQUEST_STATUSES,
    STATUSES,
    LastFailure,
    LastRequest,
    LastRun,
    RunHistory,
)

FORMAT = 1


def _time_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def history_dict(history: RunHistory) -> dict:
    """The history as JSON-ready data (the file's content, `reconcile status --output json`)."""
    last_run, failure = history.last_run, history.last_failure
    return {
        "format": FORMAT,
        "device_id": history.device_id,
        "last_run": None if last_run is None else {
            "time": format_time(last_run.time), "status": last_run.status, "exit_code": last_run.exit_code,
        },
        "last_success": _time_or_none(history.last_success),
        "consecutive_failures": history.consecutive_failures,
        "last_failure": None if failure is None else {
            "time": format_time(failure.time), "reason": failure.reason, "exit_code": failure.exit_code,
            "message": failure.message,
        },
        "backoff_until": _time_or_none(history.backoff_until),
        "tenant_failures": history.tenant_failures,
        "backoff_reason": history.backoff_reason,
        "backoff_digest": history.backoff_digest,
        "tenant_wait_until": _time_or_none(history.tenant_wait_until),
        "last_request": None if history.last_request is None else {
            "time": format_time(history.last_request.time), "status": history.last_request.status,
            "rotate_key": history.last_request.rotate_key,
        },
        "twin_digest": history.twin_digest,
        "twin_published": _time_or_none(history.twin_published),
    }


def _field(data: dict, name: str, kind: type, optional: bool = False):
    value = data.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):  # True is an int to Python, not to us
        raise ValueError(f"{name}: expected {kind.__name__}{' or null' if optional else ''}")
    if isinstance(value, str) and len(value) > MAX_MESSAGE:
        raise ValueError(f"{name}: longer than {MAX_MESSAGE} characters")
    return value


def _when(data: dict, name: str, optional: bool = False) -> datetime | None:
    text = _field(data, name, str, optional)
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError:
        raise ValueError(f"{name}: not a UTC time like 2026-06-01T12:00:00Z") from None


def _exit_code(data: dict) -> int:
    code = _field(data, "exit_code", int)
    if not 0 <= code <= 255:
        raise ValueError("exit_code: not between 0 and 255")
    return code


def _count(data: dict, name: str) -> int:
    """A non-negative count; absent (a history written before the field existed) is 0."""
    if name not in data:
        return 0
    value = _field(data, name, int)
    if value < 0:
        raise ValueError(f"{name}: negative")
    return value


def parse_history(data: bytes) -> RunHistory:
    """A history from the file's bytes; ValueError naming the first field that is wrong.
    Unknown keys are ignored, so that later versions can add fields."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    if document.get("format") != FORMAT or isinstance(document.get("format"), bool):
        raise ValueError(f"format: expected {FORMAT}")
    last_run = _field(document, "last_run", dict, optional=True)
    if last_run is not None:
        status = _field(last_run, "status", str)
        if status not in STATUSES:
            raise ValueError(f"last_run.status: {status[:40]!r} is not one of {', '.join(STATUSES)}")
        last_run = LastRun(_when(last_run, "time"), status, _exit_code(last_run))
    failure = _field(document, "last_failure", dict, optional=True)
    if failure is not None:
        failure = LastFailure(_when(failure, "time"), _field(failure, "reason", str), _exit_code(failure),
                              _field(failure, "message", str))
    failures = _count(document, "consecutive_failures")
    request = _field(document, "last_request", dict, optional=True)
    if request is not None:
        status = _field(request, "status", str)
        if status not in REQUEST_STATUSES:
            raise ValueError(f"last_request.status: {status[:40]!r} is not one of {', '.join(REQUEST_STATUSES)}")
        rotate = request.get("rotate_key", False)
        if not isinstance(rotate, bool):
            raise ValueError("last_request.rotate_key: expected true or false")
        request = LastRequest(_when(request, "time"), status, rotate)
    return RunHistory(
        device_id=_field(document, "device_id", str),
        last_run=last_run,
        last_success=_when(document, "last_success", optional=True),
        consecutive_failures=failures,
        last_failure=failure,
        backoff_until=_when(document, "backoff_until", optional=True),
        tenant_failures=_count(document, "tenant_failures"),
        backoff_reason=_field(document, "backoff_reason", str, optional=True),
        backoff_digest=_field(document, "backoff_digest", str, optional=True),
        tenant_wait_until=_when(document, "tenant_wait_until", optional=True),
        last_request=request,
        twin_digest=_field(document, "twin_digest", str, optional=True),
        twin_published=_when(document, "twin_published", optional=True),
    )
