"""The run history's file, `<cert dir>/.<cert name>.reconcile-state.json`: read, advanced and
written atomically under the run's lock (mode 0644: nothing secret in it). A file that is missing,
corrupt, oversized or not a regular file reads as "no history" with a one-line warning."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Callable

from reconciler.basics.atomic_files import write_atomic
from reconciler.basics.errors import ReconcileError
from reconciler.basics.logs import warn
from reconciler.basics.safe_read import read_regular
from reconciler.planning.model import RenewalRequest
from reconciler.runs.history_codec import history_dict, parse_history
from reconciler.runs.run_history import (
    PolicyFactory,
    RunHistory,
    RunOutcome,
    after_run,
    outcome_of_exception,
    outcome_of_report,
)

MAX_BYTES = 64 * 1024
FILE_MODE = 0o644  # nothing secret in it: operators and exporters may read it


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
