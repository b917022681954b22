"""What the last runs did, persisted beside the live files in `<cert dir>/.<cert name>.reconcile-state.json`.

`reconcile status` and the metrics file show it; the failure backoff builds on it. It holds times,
outcomes, exit codes and messages: never a password, a token or key material (mode 0644). It is
written atomically under the run's lock; a file that is missing, corrupt, oversized or not a
regular file reads as "no history" with a one-line warning.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, NamedTuple

from reconciler.basics.atomic_files import write_atomic
from reconciler.basics.errors import ExitCode, ReconcileError
from reconciler.basics.safe_read import read_regular
from reconciler.basics.timestamps import format_time, parse_time
from reconciler.basics.logs import warn
from reconciler.planning.model import RenewalRequest

FORMAT = 1
MAX_BYTES = 64 * 1024
MAX_MESSAGE = 1000  # characters of a failure message kept: the file stays small whatever the tenant said
FILE_MODE = 0o644  # nothing secret in it: operators and exporters may read it
SUCCESS = ("converged", "changed")
# steps whose failure is the tenant's even when this run sent it nothing: the answer it gave (maybe in
# an earlier run) is judged, the new certificate is tried on its MQTT endpoint, the mapper reconnects.
# Every request itself (EST, device tokens, CA certificates, test connections, reconnects) is counted
# in the apply outcome's `requests`: a run that sent one and failed is a tenant failure wherever it failed.
TENANT_FACING = ("verify_candidate", "verify_connection", "activate")
STATUSES = (*SUCCESS, "blocked", "failed", "interrupted", "backoff")


class LastRun(NamedTuple):
    time: datetime
    status: str  # converged | changed | blocked | failed | interrupted
    exit_code: int


class LastFailure(NamedTuple):
    time: datetime
    reason: str  # short and machine-readable: `enroll:unreachable`, `blocked:OneTimePasswordMissing`
    exit_code: int
    message: str


class LastRequest(NamedTuple):
    """An explicit renewal request (--renew-now) and how it ended: kept as a fact, never re-run."""

    time: datetime
    status: str  # completed | failed
    rotate_key: bool = False


REQUEST_STATUSES = ("completed", "failed")


class RunHistory(NamedTuple):
    device_id: str
    last_run: LastRun | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    last_failure: LastFailure | None = None
    backoff_until: datetime | None = None  # the next allowed tenant request; None: no backoff
    tenant_failures: int = 0  # runs in a row in which the tenant failed us (backoff.py)
    backoff_reason: str | None = None  # what failed last: `enroll:unreachable`, `reenroll:short-certificate`
    backoff_digest: str | None = None  # the desired state the backoff was set under; another one ends it
    tenant_wait_until: datetime | None = None  # the tenant's own Retry-After: no request before it (retry.py)
    last_request: LastRequest | None = None  # the last explicit renewal request, done or failed
    twin_digest: str | None = None  # of the twin last published, lastRun.time left out (twin.py)
    twin_published: datetime | None = None  # when it was published


class RunOutcome(NamedTuple):
    """How one run ended, as the history records it."""

    status: str
    exit_code: int
    reason: str | None = None  # for blocked and failed runs
    message: str | None = None
    tenant_failed: str | None = None  # the tenant failed us (a request failed, or its certificate was already due): why
    not_before: datetime | None = None  # the tenant asked (Retry-After) for no request before this time


class BackoffPolicy(NamedTuple):
    """What a tenant failure costs: `pause(failures)` and the desired state it is counted under."""

    pause: Callable[[int], timedelta]
    digest: str


# --- outcomes -------------------------------------------------------------------------------------


def _code_name(code: int) -> str:
    try:
        return ExitCode(code).name.lower()
    except ValueError:
        return str(code)


def outcome_of_report(report) -> RunOutcome:
    """The outcome of a run that got as far as a report (reconciler.runs.report.Report)."""
    error = report.failed
    if error is not None:
        results = report.outcome.results if report.outcome else []
        failed = [r.action.kind.value for r in results if r.status == "failed"]
        code = int(error.exit_code)
        where = failed[0] if failed else "run"
        reason = f"{where}:{_code_name(code)}"
        # a run that asked the tenant and failed (even after it answered: a rolled-back swap), or whose
        # step facing the tenant failed, must not ask again at once; a local failure before any request must not wait
        asked = bool(report.outcome and report.outcome.requests) or where in TENANT_FACING
        tenant_failed = reason if asked else report.tenant_shortfall
        not_before = getattr(error, "not_before", None)  # set by retry.py when the tenant's last answer said Retry-After
        if not_before is not None:
            tenant_failed = f"{where}:retry-after"
        return RunOutcome("failed", code, reason, error.message, tenant_failed, not_before)
    if report.plan.blockers:
        blocker = report.plan.blockers[0]
        return RunOutcome("blocked", int(ExitCode.BLOCKED), f"blocked:{blocker.reason.value}", blocker.message)
    if report.backoff is not None:
        return RunOutcome("backoff", int(ExitCode.BACKING_OFF))
    return RunOutcome(report.status, int(ExitCode.OK), tenant_failed=report.tenant_shortfall)


def outcome_of_exception(err: BaseException) -> RunOutcome:
    """The outcome of a run that ended by an exception before its report was complete."""
    if isinstance(err, (KeyboardInterrupt, SystemExit)):
        return RunOutcome("interrupted", int(ExitCode.INTERRUPTED))
    if isinstance(err, ReconcileError):
        code = int(err.exit_code)
        return RunOutcome("failed", code, f"run:{_code_name(code)}", err.message)
    # an unexpected error: its text could hold anything, so only its kind is kept
    return RunOutcome("failed", int(ExitCode.ERROR), "run:internal", f"internal error: {type(err).__name__}")


PolicyFactory = Callable[[], BackoffPolicy]  # made only when a tenant failure is recorded: no-op runs skip it


def _backed_off(history: RunHistory, outcome: RunOutcome, now: datetime, make_policy: PolicyFactory | None) -> RunHistory:
    """The backoff after this run: longer when the tenant failed us, gone after a success without."""
    if outcome.tenant_failed and make_policy is not None:
        policy = make_policy()
        failures = (history.tenant_failures if history.backoff_digest == policy.digest else 0) + 1
        until = (now + policy.pause(failures)).replace(microsecond=0)
        if outcome.not_before is not None:  # the tenant's own wait is never cut short by a shorter pause
            until = max(until, outcome.not_before)
        return history._replace(
            tenant_failures=failures, backoff_until=until, backoff_reason=outcome.tenant_failed, backoff_digest=policy.digest,
            tenant_wait_until=outcome.not_before,
        )
    if outcome.status in SUCCESS:
        return history._replace(tenant_failures=0, backoff_until=None, backoff_reason=None, backoff_digest=None,
                                tenant_wait_until=None)
    return history  # blocked, failed without asking the tenant, backing off, interrupted: as it was


def after_run(
    previous: RunHistory | None, device_id: str, outcome: RunOutcome, now: datetime, policy: PolicyFactory | None = None,
    request: RenewalRequest | None = None,
) -> RunHistory:
    """The history once a run with `outcome` has ended at `now` (pure).

    A success resets the failure count; a blocked or failed run counts one more failure; an
    interrupted or backing-off run changes nothing but the last run. The backoff grows when the
    tenant failed us and ends with a success that did not (backoff.py). A history of another
    device id is not carried over.
    """
    now = now.replace(microsecond=0)  # the file keeps whole seconds: what is returned is what is read back
    base = previous if previous is not None and previous.device_id == device_id else RunHistory(device_id)
    ran = _backed_off(base._replace(last_run=LastRun(now, outcome.status, outcome.exit_code)), outcome, now, policy)
    if request is not None:  # remembered as done or failed: nothing is left pending for a later run
        done = "completed" if outcome.status in SUCCESS else "failed"
        ran = ran._replace(last_request=LastRequest(now, done, request.rotate_key))
    if outcome.status in SUCCESS:
        return ran._replace(last_success=now, consecutive_failures=0)
    if outcome.status in ("interrupted", "backoff"):
        return ran
    failure = LastFailure(now, outcome.reason or "run", outcome.exit_code, (outcome.message or "")[:MAX_MESSAGE])
    return ran._replace(consecutive_failures=base.consecutive_failures + 1, last_failure=failure)


# --- the file -------------------------------------------------------------------------------------


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


def _warn_on_stderr(message: str) -> None:
    warn(message)


def read_history(path: Path, warn: Callable[[str], None] = _warn_on_stderr) -> RunHistory | None:
    """The history in `path`; None when there is none or it cannot be trusted (then with a warning)."""
    try:
        return parse_history(read_regular(path, MAX_BYTES))
    except FileNotFoundError:
        if os.path.islink(path):
            warn(f"{path}: run history ignored (a link to nothing); starting a new one")
        return None
    except OSError as err:  # FileRefused included: a FIFO, a directory, too large
        warn(f"{path}: run history ignored ({err.strerror}); starting a new one")
    except ValueError as err:
        warn(f"{path}: run history ignored ({err}); starting a new one")
    return None


def write_history(path: Path, history: RunHistory) -> None:
    """Replace the file in one step (never through a symlink: the rename replaces the link)."""
    text = json.dumps(history_dict(history), indent=2) + "\n"
    write_atomic(path, text.encode(), FILE_MODE, durable=False)  # every run writes it: no fsync to wear the flash


def record_run(
    path: Path, device_id: str, outcome: RunOutcome, now: datetime, warn: Callable[[str], None] = _warn_on_stderr,
    policy: PolicyFactory | None = None, request: RenewalRequest | None = None,
) -> RunHistory:
    """Read, advance and write the history; a history that cannot be written never fails the run."""
    history = after_run(read_history(path, warn), device_id, outcome, now, policy, request)
    try:
        write_history(path, history)
    except ReconcileError as err:  # atomic_files names the path and the reason
        warn(f"cannot write the run history: {err.message}")
    return history


class _Run:
    report = None  # set by the caller once the run has a report


@contextmanager
def recording(path: Path, device_id: str, clock: Callable[[], datetime], policy: PolicyFactory | None = None,
              request: RenewalRequest | None = None):
    """Record the run inside this block when it ends, however it ends (call it under the lock).
    The caller sets `.report` on what it yields; the report then gets `.history`. With `request`
    (an explicit renewal request) the history also keeps whether it completed or failed."""
    run = _Run()
    try:
        yield run
    except BaseException as err:
        record_run(path, device_id, outcome_of_exception(err), clock(), policy=policy, request=request)
        raise
    if run.report is None:
        return
    run.report.history = record_run(path, device_id, outcome_of_report(run.report), clock(), policy=policy,
                                    request=request)
