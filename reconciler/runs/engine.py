"""One reconcile pass: observe, plan, and (unless dry-run) apply under the lock, then observe again.

Shared by the CLI and the Ansible module, so neither holds logic the other lacks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Mapping

from reconciler.applying.applier import Applier
from reconciler.applying.journal import record
from reconciler.basics.errors import Blocked
from reconciler.basics.layout import state_file
from reconciler.basics.lock import device_lock
from reconciler.basics.timestamps import utc_now
from reconciler.desired.model import DesiredState
from reconciler.device.leftovers import sweep
from reconciler.device.observe import observe
from reconciler.planning.backends import Backends
from reconciler.planning.backoff import delay, desired_state_digest, in_force
from reconciler.planning.model import Kind, RenewalRequest
from reconciler.planning.plan import plan
from reconciler.runs.facts import observation_facts
from reconciler.runs.history_file import read_history, recording
from reconciler.runs.report import Report
from reconciler.runs.run_history import BackoffPolicy
from reconciler.runs.stamp_keeper import NoStamp
from reconciler.runs.twin import publish_twin

# What a run that stops at the staged certificate carries out (stage_only): activation is left to a later run.
UP_TO_STAGE = (Kind.DISCARD_CANDIDATE, Kind.GENERATE_KEY, Kind.WRITE_CSR, Kind.ENROLL, Kind.REENROLL,
               Kind.VERIFY_CANDIDATE, Kind.STAGE)

# Applying these reaches the tenant: a request, its CA certificates, MQTT, a reconnect.
TENANT_FACING = (Kind.ENROLL, Kind.REENROLL, Kind.VERIFY_CANDIDATE, Kind.VERIFY_CONNECTION, Kind.ACTIVATE)


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
    request: RenewalRequest | None = None,
    stage_only: bool = False,
    stamp=NoStamp(),
) -> Report:
    """Bring the device to `spec` (which must be resolved) and report what was found and done.
    A real run (not a dry run) is recorded in the run history; the report carries it (`.history`).

    `environ` is where `enrollment.one_time_password_env` is looked up (default: os.environ); the
    Ansible module passes a password held in memory this way, never through the process environment.

    A plan that would ask the tenant while the run history's backoff holds is not applied (status
    `backoff`, exit 9) unless `force`; the history records how the tenant did (backoff.py).

    `request` renews now although nothing is due (--renew-now), through the same actions as a due
    renewal. It is explicit, so it is not held back by the backoff either; the history keeps it only
    as completed or failed (`last_request`), so no later run repeats it.

    `stage_only` stops once the new certificate is verified and staged as `<cert>.new`: the next run
    finds it (CandidatePending) and backs up, swaps and activates it, with the rollback of any run.
    The Cumulocity operation activates in a step of its own, as activation restarts the local broker.

    `stamp` (a StampKeeper, from the `reconcile` command) is forgotten before anything can change
    and written again when the run ends converged with nothing pending (reconciler.converged).
    """
    force = force or request is not None
    if dry_run:
        report, _ = _observe_and_plan(spec, clock, dry_run=True, environ=environ, request=request)
        if not force:
            _hold_back(report, spec, clock())
        return report
    paths = spec.paths
    with device_lock(paths.cert, (paths.key, paths.cert, paths.csr), lock_timeout) as lock:
        if not lock.held:  # read-only, unwritable or a special device file: nothing changes, nothing is recorded
            return _report_unchangeable(spec, clock, environ, lock.unwritable)
        stamp.forget()  # --- stamp: before the sweep or any action changes a file
        with recording(state_file(paths.cert), spec.device_id, clock, lambda: _backoff_policy(spec), request) as run:
            swept = sweep(spec, clock())  # under the lock, what a killed run left is known to be stale
            stamp.look(spec)  # --- stamp: the inputs as the observation is about to read them
            report, observation = _observe_and_plan(spec, clock, dry_run=False, environ=environ, request=request)
            report.notes.extend(swept)
            if stage_only:
                report.plan = report.plan._replace(actions=tuple(a for a in report.plan.actions if a.kind in UP_TO_STAGE))
            run.report = report  # the run history records how it ends, however it ends
            if not force:
                _hold_back(report, spec, clock())
            if report.plan.actions and not report.plan.blockers and report.backoff is None:
                _apply(report, observation, spec, backends, clock, progress, environ)
        publish_twin(spec, report, clock())  # after the history is written: the twin shows this run
        stamp.keep(spec, report, clock())  # --- stamp: only a converged run with nothing pending writes one
    return report


def _observe_and_plan(spec: DesiredState, clock: Callable[[], datetime], dry_run: bool, environ=None, request=None):
    """The report of what is and what would change, and the observation it rests on."""
    now = clock()
    observation = observe(spec, environ)
    facts = observation_facts(observation, spec.validity.renew_before, now)
    return Report(spec.device_id, dry_run, plan(spec, observation, now, request), facts), observation


def _report_unchangeable(spec: DesiredState, clock, environ, why: str) -> Report:
    """Without the lock nothing may change: the plan is shown, and blocks the run if it has actions."""
    report, _ = _observe_and_plan(spec, clock, dry_run=False, environ=environ)
    if report.plan.actions and not report.plan.blockers:
        report.error = Blocked(f"cannot change anything here ({why}), but the device needs it: {report.plan.message}")
    return report


def _apply(report: Report, observation, spec: DesiredState, backends: Backends | None, clock, progress,
           environ) -> None:
    """Carry out the report's plan, journal each action, and observe the device again afterwards."""
    if backends is None:
        # The real backends import the HTTPS and MQTT clients: only a run that applies pays for them.
        from reconciler.applying.plugins import default_backends

        backends = default_backends()

    def progress_and_journal(result):
        record(spec.paths.backup_dir, spec.device_id, result, clock())
        progress(result)

    applier = Applier(spec, observation.ownership, backends, clock, progress_and_journal, environ=environ)
    report.outcome = applier.run(report.plan)
    report.after = observation_facts(observe(spec, environ), spec.validity.renew_before, clock())


def _backoff_policy(spec: DesiredState) -> BackoffPolicy:
    first, cap = spec.tenant.backoff.first, spec.tenant.backoff.max
    return BackoffPolicy(lambda failures: delay(failures, first, cap), desired_state_digest(spec))


def _hold_back(report: Report, spec: DesiredState, now: datetime) -> None:
    """Mark the report as backing off when its plan would ask a tenant that failed earlier runs."""
    if report.plan.blockers or not any(action.kind in TENANT_FACING for action in report.plan.actions):
        return
    history = read_history(state_file(spec.paths.cert))
    report.backoff = in_force(history, desired_state_digest(spec), now, spec.tenant.backoff.max)
