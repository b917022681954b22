"""What the last runs did, and how one more run changes it (pure).

The history is kept beside the live files in `<cert dir>/.<cert name>.reconcile-state.json`
(history_file.py; its JSON form in history_codec.py). `reconcile status`, the metrics file and
the twin show it; the failure backoff builds on it. It holds times, outcomes, exit codes and
messages: never a password, a token or key material.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, NamedTuple

from reconciler.basics.errors import ExitCode, ReconcileError
from reconciler.planning.model import RenewalRequest

MAX_MESSAGE = 1000  # characters of a failure message kept: the file stays small whatever the tenant said
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
