"""The Cumulocity operation c8y_RenewCertificate as the steps of a thin-edge workflow.

`tedge reconnect c8y` restarts mosquitto, cutting every local MQTT client, the agent running the
operation too. So the renewal is split where nothing is lost by a cut:
1. renew: under the lock, renew and stage the new certificate as `<cert>.new` (a held lock, a tenant
   failure: the operation fails at once, with the engine's message);
2. activate (a background step): an ordinary run, which finds the staged certificate and backs up,
   swaps and activates it, rolling back on failure;
3. check: wait until that certificate is live (success) or a later run failed or it is gone (failure),
   then publish the twin.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Callable, NamedTuple

from reconciler.basics.errors import Blocked, Locked
from reconciler.basics.layout import state_file
from reconciler.basics.lock import device_lock
from reconciler.basics.timestamps import utc_now
from reconciler.desired.model import DesiredState
from reconciler.device.observe import observe
from reconciler.planning.model import Plan
from reconciler.runs.facts import observation_facts
from reconciler.runs.history_file import read_history
from reconciler.runs.report import Report
from reconciler.runs.run_history import SUCCESS, RunHistory
from reconciler.runs.twin import publish_twin

CHECK_EVERY_SECONDS = 1.0


class Outcome(NamedTuple):
    ok: bool
    message: str  # the engine's one-line message on failure; what is live on success
    certificate: dict  # facts of the live certificate (runs/facts.py)


def run_marker(history: RunHistory | None) -> str:
    """Names the last recorded run, so that a later step can tell whether another run ended since."""
    last = history.last_run if history else None
    return "none" if last is None else f"{last.time:%Y%m%dT%H%M%SZ}-{last.status}-{last.exit_code}"


def _live_facts(spec: DesiredState, now: datetime) -> dict:
    return observation_facts(observe(spec), spec.validity.renew_before, now)


def _judge(spec: DesiredState, serial: str, marker: str, facts: dict) -> Outcome | None:
    """Success when `serial` is live; failure when a later run failed or the staged certificate is gone."""
    live = facts["certificate"]
    if live.get("serial") == serial:
        return Outcome(True, f"certificate serial {serial} is live, valid until {live['not_after']}", live)
    history = read_history(state_file(spec.paths.cert))
    # An unreadable history (a power cut may roll it back: it is written without fsync) tells of no
    # later run; the staged certificate still answers whether the activation happened.
    last = history.last_run if history is not None else None
    if last is not None and run_marker(history) != marker and last.status not in SUCCESS:
        failure = history.last_failure
        reason = failure.message if failure is not None and failure.time == last.time else None
        return Outcome(False, reason or f"the activation run ended {last.status} (exit {last.exit_code})", live)
    candidate = facts["candidate"] or {}
    if candidate.get("serial") != serial:
        return Outcome(False, f"the renewed certificate (serial {serial}) did not go live; the live one is "
                       f"serial {live.get('serial')}", live)
    return None  # still staged: the activation has not run yet


def check_live(
    spec: DesiredState, serial: str, marker: str, timeout: float, clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Wait (under the lock, between looks) until the certificate `serial` is live or cannot become so.
    On success the twin is published, so that the inventory shows the new certificate at once."""
    deadline = time.monotonic() + timeout
    paths = spec.paths
    while True:
        remaining = max(0.0, deadline - time.monotonic())
        try:
            with device_lock(paths.cert, (paths.key, paths.cert, paths.csr), remaining) as lock:
                if not lock.held:
                    raise Blocked(f"cannot check the certificate ({lock.unwritable})")
                now = clock()
                facts = _live_facts(spec, now)
                outcome = _judge(spec, serial, marker, facts)
                if outcome is not None:
                    if outcome.ok:
                        _publish(spec, facts, now)
                    return outcome
        except Locked:  # the activation run (or another) still holds the lock at the deadline
            return Outcome(False, f"the renewed certificate (serial {serial}) is not confirmed live after {timeout:g}s: "
                           "another reconcile run still holds the lock (the next run finishes the activation)", {})
        if time.monotonic() >= deadline:
            return Outcome(False, f"the renewed certificate (serial {serial}) is still staged after {timeout:g}s: "
                           "the activation did not run (the next reconcile run activates it)", facts["certificate"])
        sleep(CHECK_EVERY_SECONDS)


def _publish(spec: DesiredState, facts: dict, now: datetime) -> None:
    """The twin of the activated certificate (the activation run's own may have met a restarting broker)."""
    report = Report(spec.device_id, False, Plan(), facts, history=read_history(state_file(spec.paths.cert)))
    publish_twin(spec, report, now)
