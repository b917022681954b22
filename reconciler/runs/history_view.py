"""The run history as `reconcile status` and the `certificate_info` module show it: what the last
runs did, and whether the backoff holds for the desired state at hand (as the engine would judge it)."""

from __future__ import annotations

from datetime import datetime

from reconciler.planning.backoff import desired_state_digest, in_force
from reconciler.runs.history_codec import history_dict
from reconciler.runs.run_history import RunHistory

# Bookkeeping of the file, not news for a reader: its format, the digest that ties a backoff to a desired
# state, and the digest of the twin last published.
_INTERNAL = ("format", "backoff_digest", "twin_digest")


def backing_off(history: RunHistory | None, spec, given: bool, now: datetime) -> bool:
    """As the engine judges it: the backoff holds for this desired state (without one, `given` False, by its time)."""
    if history is None or history.backoff_until is None:
        return False
    if not given:  # no desired state to compare with
        return history.backoff_until > now
    return in_force(history, desired_state_digest(spec), now, spec.tenant.backoff.max) is not None


def history_view(history: RunHistory | None, device_id: str, spec, given: bool, now: datetime) -> dict:
    """The history as JSON-ready data without the file's bookkeeping, and `backing_off`."""
    document = history_dict(history or RunHistory(device_id))
    for name in _INTERNAL:
        document.pop(name)
    return {**document, "backing_off": backing_off(history, spec, given, now)}
