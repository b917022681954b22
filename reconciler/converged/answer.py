"""Answering from the stamp, for any face (the `reconcile` command, the Ansible module): find a
stamp that fits, check every input and the clock, record the run under the lock, and give the
verdict as it is now. A doubt is never an error: the caller runs the full engine instead."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, NamedTuple

from reconciler.basics.errors import ReconcileError
from reconciler.basics.lock import exclusive_lock
from reconciler.converged.history import NotForTheStamp, Recorded, previous_history, record_converged
from reconciler.converged.stamp import SPEC_MEASURES, Stamp, absolute, first_difference, in_window, read_stamp


class Answered(NamedTuple):
    stamp: Stamp
    history: Recorded | None  # None: not recorded (a check, as a dry run records nothing)
    now: datetime

    @property
    def report(self) -> dict:
        """The stamp's report with the age of the certificate brought up to now."""
        report = json.loads(json.dumps(self.stamp.report))
        certificate = report["before"]["certificate"]
        certificate["days_left"] = round((self.stamp.not_after - self.now).total_seconds() / 86400, 2)
        return report


def usable_stamp(stamp_file: Path, source: str, config_dir: Path, environ: Mapping[str, str]) -> Stamp | None:
    """The stamp in `stamp_file` when it is for `source` (the desired state's absolute path, or a digest
    of inline options) and `config_dir`, and the desired state's own inputs are unchanged."""
    stamp = read_stamp(stamp_file)
    if stamp is None or stamp.desired_state != source or stamp.config_dir != absolute(config_dir):
        return None
    if first_difference(stamp, environ, SPEC_MEASURES) is not None:
        return None
    return stamp


def verdict_holds(stamp: Stamp, environ: Mapping[str, str], now: datetime) -> bool:
    """Every input as recorded, the clock inside the window, and nothing pending in the run history."""
    if not in_window(stamp, now) or first_difference(stamp, environ) is not None:
        return False
    try:
        previous_history(Path(stamp.history), stamp.device_id)
    except NotForTheStamp:
        return False
    return True


def answer(stamp_file: Path, source: str, config_dir: Path, environ: Mapping[str, str], record: bool = True) -> Answered | None:
    """The verdict from the stamp, the run recorded under the lock (taken without waiting) unless
    not `record`; None when the full engine must run."""
    try:
        stamp = usable_stamp(stamp_file, source, config_dir, environ)
        if stamp is None:
            return None
        if not record:
            now = datetime.now(timezone.utc)
            return Answered(stamp, None, now) if verdict_holds(stamp, environ, now) else None
        with exclusive_lock(Path(stamp.lock), 0) as lock:
            if not lock.held:
                return None
            now = datetime.now(timezone.utc)
            if not verdict_holds(stamp, environ, now):
                return None
            return Answered(stamp, record_converged(Path(stamp.history), stamp.device_id, now), now)
    except (OSError, ValueError, ReconcileError, NotForTheStamp):  # a doubt, not a failure: the full engine decides
        return None
