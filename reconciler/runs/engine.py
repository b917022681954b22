"""One reconcile pass: observe, plan, and (unless dry-run) apply under the lock, then observe again.

Shared by the CLI and the Ansible module, so neither holds logic the other lacks.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Mapping

from reconciler.runs.facts import observation_facts
from reconciler.device.observe import observe
from reconciler.planning.plan import plan
from reconciler.runs.report import Report
from reconciler.desired.model import DesiredState

if TYPE_CHECKING:
    from reconciler.planning.backends import Backends


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _observe_and_plan(spec: DesiredState, clock: Callable[[], datetime], dry_run: bool, environ=None):
    """The report of what is and what would change, and the observation it rests on."""
    now = clock()
    observation = observe(spec, environ)
    facts = observation_facts(observation, spec.validity.renew_before, now)
    return Report(spec.device_id, dry_run, plan(spec, observation, now), facts), observation


def _contacts_the_tenant(report: Report) -> bool:
    """Whether applying the plan reaches the tenant: a request, its CA certificates, MQTT, a reconnect."""
    from reconciler.planning.model import Kind

    facing = (Kind.ENROLL, Kind.REENROLL, Kind.VERIFY_CANDIDATE, Kind.VERIFY_CONNECTION, Kind.ACTIVATE)
    return any(action.kind in facing for action in report.plan.actions)


def _backoff_policy(spec: DesiredState):
    from reconciler.planning.backoff import delay, desired_state_digest
    from reconciler.runs.run_history import BackoffPolicy

    first, cap = spec.tenant.backoff.first, spec.tenant.backoff.max
    return BackoffPolicy(lambda failures: delay(failures, first, cap), desired_state_digest(spec))


def _hold_back(report: Report, spec: DesiredState, now: datetime) -> None:
    """Mark the report as backing off when its plan would ask a tenant that failed earlier runs."""
    if not _contacts_the_tenant(report) or report.plan.blockers:
        return
    from reconciler.planning.backoff import desired_state_digest, in_force
    from reconciler.basics.layout import state_file
    from reconciler.runs.run_history import read_history

    history = read_history(state_file(spec.paths.cert))
    report.backoff = in_force(history, desired_state_digest(spec), now, spec.tenant.backoff.max)


def reconcile(
    spec: DesiredState,
    *,
    dry_run: bool,
    backends: Backends | None = None,
    lock_timeout: float = 60.0,
    clock: Callable[[], datetime] = utc_now,
    progress: Callable = lambda result: None,
    environ: Mapping[str, str] | None = None,
    force: bool = False,
) -> Report:
    """Bring the device to `spec` (which must be resolved) and report what was found and done.
    A real run (not a dry run) is recorded in the run history; the report carries it (`.history`).

    `environ` is where `enrollment.one_time_password_env` is looked up (default: os.environ); the
    Ansible module passes a password held in memory this way, never through the process environment.

    A plan that would ask the tenant while the run history's backoff holds is not applied (status
    `backoff`, exit 9) unless `force`; the history records how the tenant did (backoff.py).
    """
    if dry_run:
        report = _observe_and_plan(spec, clock, dry_run=True, environ=environ)[0]
        if not force:
            _hold_back(report, spec, clock())
        return report

    from reconciler.basics.layout import state_file
    from reconciler.basics.lock import device_lock
    from reconciler.runs.run_history import recording

    paths = spec.paths
    with device_lock(paths.cert, (paths.key, paths.cert, paths.csr), lock_timeout) as lock:
        if not lock.held:  # read-only, unwritable or a special device file: nothing changes, nothing is recorded
            report, _ = _observe_and_plan(spec, clock, dry_run=False, environ=environ)
            if report.plan.actions and not report.plan.blockers:
                from reconciler.basics.errors import Blocked

                report.error = Blocked(
                    f"cannot change anything here ({lock.unwritable}), but the device needs it: {report.plan.message}"
                )
            return report
        with recording(state_file(spec.paths.cert), spec.device_id, clock, lambda: _backoff_policy(spec)) as run:
            from reconciler.device.leftovers import sweep

            swept = sweep(spec, clock())  # under the lock, what a killed run left is known to be stale
            report, observation = _observe_and_plan(spec, clock, dry_run=False, environ=environ)
            report.notes.extend(swept)
            run.report = report  # the run history records how it ends, however it ends
            if not force:
                _hold_back(report, spec, clock())
            the_plan = report.plan
            if the_plan.actions and not the_plan.blockers and report.backoff is None:
                from reconciler.applying.applier import Applier  # heavy; a converged device never needs it

                if backends is None:
                    from reconciler.applying.plugins import default_backends

                    backends = default_backends()
                from reconciler.applying.journal import record

                def progress_and_journal(result):
                    record(spec.paths.backup_dir, spec.device_id, result, clock())
                    progress(result)

                applier = Applier(spec, observation.ownership, backends, clock, progress_and_journal, environ=environ)
                report.outcome = applier.run(the_plan)
                report.after = observation_facts(observe(spec, environ), spec.validity.renew_before, clock())
    return report
