"""Runs a parser over many fuzz cases and holds it to its documented contract.

Each case runs under a watchdog (SIGALRM after `limit` seconds raises CaseTimeout, a
BaseException, so that no parser's `except Exception` can turn a hang into an ordinary error),
with warnings either raised as errors or recorded, and its result checked. The first broken
promise fails the test with a one-line reproducer: target, seed, case index, what happened and
where, and the input in base64. The harness writes nothing; a test that needs its input in a
file writes it under tmp_path (`fresh_file`).

Campaign size: each target's count goes through `cases()`, so `FUZZ_SCALE=20 pytest tests/test_fuzz_*.py`
runs twenty times the CI's cases (the first ones the same, the rest new).
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import time
import traceback
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import pytest

import reconciler
from tests.mutations import Mutator

SCALE = int(os.environ.get("FUZZ_SCALE", "1"))  # see the module docstring
CASE_SECONDS = 2.0  # a bound against hangs and super-linear work, not a timing assertion
SHOWN_BASE64 = 4096
PACKAGE = os.path.dirname(reconciler.__file__) + os.sep


def cases(count: int) -> int:
    """A target's case count as CI runs it, times FUZZ_SCALE for a longer campaign."""
    if SCALE < 1:
        raise ValueError(f"FUZZ_SCALE must be a whole number >= 1, not {SCALE}")
    return count * SCALE


class CaseTimeout(BaseException):
    """Raised inside a case by the watchdog (hang or super-linear work)."""


class Known(NamedTuple):
    """A reported, not yet fixed finding: this exception type, raised where `origin()` contains `where`."""

    name: str
    error: type
    where: str


@dataclass
class Tally:
    accepted: int = 0
    refused: Counter = field(default_factory=Counter)  # refusal type -> cases
    messages: set = field(default_factory=set)  # distinct refusal messages: how deep the cases reach
    warned: int = 0
    known: Counter = field(default_factory=Counter)


def origin(err: BaseException) -> str:
    """`reconciler/<file>:<line>:<function>` of the innermost frame of the package in the traceback."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.startswith(PACKAGE)]
    if not frames:
        return "outside reconciler/"
    last = frames[-1]
    return f"reconciler/{last.filename[len(PACKAGE):]}:{last.lineno}:{last.name}"


def reproducer(label: str, seed: int, index: int, data: bytes, problem: str) -> str:
    shown = base64.b64encode(data).decode()
    if len(shown) > SHOWN_BASE64:
        digest = hashlib.sha256(data).hexdigest()[:16]
        shown = f"{shown[:SHOWN_BASE64]}... (sha256 {digest}; the case is a function of seed and index alone)"
    return f"FUZZ {label} seed={seed} case={index}: {problem} | input {len(data)} bytes, base64: {shown}"


@contextmanager
def watchdog(limit: float):
    """Arms a per-case alarm; pauses pytest-timeout's own alarm meanwhile and gives back what is left of it."""

    def expire(signum, frame):
        raise CaseTimeout(f"still running after {limit:g} s")

    previous_handler = signal.signal(signal.SIGALRM, expire)
    previous_delay, _ = signal.setitimer(signal.ITIMER_REAL, 0)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay:
            signal.setitimer(signal.ITIMER_REAL, max(previous_delay - (time.monotonic() - started), 0.001))


def _run_case(call, data: bytes, warnings_allowed: bool, limit: float):
    """(result, error, warnings seen, seconds) of one call; never raises but CaseTimeout."""
    result = error = None
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always" if warnings_allowed else "error")
        started = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            result = call(data)
        except (CaseTimeout, Exception) as err:  # Warning subclasses included: errors here unless allowed
            error = err
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return result, error, len(seen), time.monotonic() - started


def _judge(tally: Tally, result, error, check, refusals, known) -> str | None:
    """Count one case's outcome; the broken promise in words, or None."""
    if error is None:
        try:
            check(result)
        except AssertionError as broken:
            return f"result breaks the contract: {broken}"
        tally.accepted += 1
    elif isinstance(error, refusals):
        tally.refused[type(error).__name__] += 1
        tally.messages.add(str(error)[:80])
    else:
        where = origin(error)
        finding = next((k for k in known if isinstance(error, k.error) and k.where in where), None)
        if finding is None:
            return f"{type(error).__name__}: {str(error)[:200]!r} at {where}"
        tally.known[finding.name] += 1
    return None


def fuzz(
    label: str,
    mutator: Mutator,
    count: int,
    call: Callable[[bytes], object],
    *,
    refusals: tuple[type[BaseException], ...] = (ValueError,),
    check: Callable[[object], None] = lambda result: None,
    warnings_allowed: bool = False,
    known: tuple[Known, ...] = (),
    limit: float = CASE_SECONDS,
) -> Tally:
    """Feed cases 0..count-1 of `mutator` to `call`. It may return (then `check` judges the result)
    or raise one of `refusals`; a known finding is counted; anything else fails the test."""
    tally = Tally()
    with watchdog(limit):
        for index in range(count):
            data = mutator.case(index)
            result, error, warned, seconds = _run_case(call, data, warnings_allowed, limit)
            tally.warned += warned
            if error is None and seconds > limit:  # a C call the alarm could not interrupt
                error = CaseTimeout(f"returned only after {seconds:.1f} s")
            problem = _judge(tally, result, error, check, refusals, known)
            if problem:
                pytest.fail(reproducer(label, mutator.seed, index, data, problem), pytrace=False)
    return tally


def fresh_file(path, data: bytes):
    """`path` holding `data`, as a new file: rewriting one file in place ten thousand times is ten
    times slower on ext4, which flushes a truncated file's blocks when it is written again."""
    path.unlink(missing_ok=True)
    path.write_bytes(data)
    return path
