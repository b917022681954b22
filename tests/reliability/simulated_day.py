"""A day of hourly timer runs in seconds: the engine and the tenant client with an injected clock,
against the real emulator over HTTPS. Shared by tests/reliability and bench/failing_tenant_day.py."""

from __future__ import annotations

import io
import random
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from reconciler.backends import Backends
from reconciler.c8y.authority import TenantAuthority
from reconciler.c8y.retry import Pace
from reconciler.engine import reconcile
from reconciler.resolve import resolve
from reconciler.spec_load import load_desired_state
from reconciler.tedge_config import load_tedge_config

OTP = "one-time-pass-0001"
TIMER_SPREAD = 300  # seconds a run may start after the hour (the timer's offset is fixed; the rest is load)


class FakeTime:
    """Wall clock and monotonic clock that move only when the code under test sleeps (or a run starts).
    The day starts a day and an hour ago, so that certificates dated by it are valid in real time too
    (the emulator's mTLS checks them against the real clock)."""

    def __init__(self, start: datetime | None = None):
        self.start = start or datetime.now(timezone.utc) - timedelta(hours=25)
        self.elapsed = 0.0
        self.at: list[tuple[float, object]] = []  # (seconds, callback): things that happen at a moment

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.advance_to(self.elapsed + max(seconds, 0.001))  # a real sleep always takes some time

    def advance_to(self, moment: float) -> None:
        self.elapsed = max(self.elapsed, moment)
        for when, callback in [item for item in self.at if item[0] <= self.elapsed]:
            self.at.remove((when, callback))
            callback()


def simulated_clock(tenant) -> FakeTime:
    """A fake clock that also dates what the emulator issues."""
    clock = FakeTime()
    tenant.clock = clock.now
    return clock


@dataclass
class RunRecord:
    hour: int
    exit_code: int
    requests: int  # to the tenant's EST endpoints, in this run


@dataclass
class Day:
    runs: list[RunRecord] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(run.requests for run in self.runs)

    @property
    def runs_asking(self) -> int:
        return sum(1 for run in self.runs if run.requests)


def device_state(folder: Path, tenant_url: str, ca_bundle: Path, **sections) -> Path:
    """A desired state with the shipped defaults for retries and backoff (the ones the bound is about)."""
    (folder / "device-certs").mkdir(parents=True, exist_ok=True)
    (folder / "otp").write_text(OTP + "\n")
    data = {
        "device_id": "gw-0001",
        "tenant": {"url": tenant_url, "ca_bundle": str(ca_bundle), "timeout": "5s"},
        "enrollment": {"one_time_password_file": "otp"},
        "activation": {"strategy": "none", "verify": "none"},
        **sections,
    }
    path = folder / "state.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def one_run(state: Path, clock: FakeTime, force: bool = False, tenant=None):
    """A timer run at the fake clock's time; returns the report and the requests it made: all the
    emulator saw (EST, tokens, CA certificates) when `tenant` is given, else the EST attempts
    (a tenant that refuses connections sees none of them as answers)."""
    seen = len(tenant.requests) if tenant is not None else 0
    spec = resolve(load_desired_state(state), load_tedge_config(state.parent), state.parent)
    paces: list[Pace] = []

    def authority(the_spec):
        enrollment = the_spec.enrollment
        pace = Pace(enrollment.retry_every.total_seconds(), enrollment.max_wait.total_seconds(), enrollment.max_attempts,
                    clock=clock.monotonic, sleep=clock.sleep)
        paces.append(pace)
        return TenantAuthority(the_spec, pace=pace, progress_stream=io.StringIO())

    report = reconcile(spec, dry_run=False, backends=Backends(authority=authority), clock=clock.now, lock_timeout=5, force=force)
    if tenant is not None:
        return report, len(tenant.requests) - seen
    failed_attempts = sum(len(pace.attempts) for pace in paces)
    succeeded = 1 if report.outcome and any(r.action.kind.value in ("enroll", "reenroll") and r.status == "done"
                                            for r in report.outcome.results) else 0
    return report, failed_attempts + succeeded


def hourly_day(state: Path, clock: FakeTime, hours: int = 24, seed: int = 1, force: bool = False, tenant=None) -> Day:
    """`hours` timer runs, one an hour, each delayed by up to the timer's spread (`force`: past any backoff)."""
    draw = random.Random(seed)
    day = Day()
    for hour in range(hours):
        clock.advance_to(hour * 3600 + draw.uniform(0, TIMER_SPREAD))
        report, requests = one_run(state, clock, force, tenant)
        day.runs.append(RunRecord(hour, report.exit_code(), requests))
    return day


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the with block ends: connections are refused


def without_backoff(state: Path) -> None:
    """The settings as they were before the backoff: no cap on a run's requests (forced runs skip the rest)."""
    data = yaml.safe_load(state.read_text())
    data["enrollment"]["max_attempts"] = 1000
    state.write_text(yaml.safe_dump(data))


def failing_tenant(kind: str, tenant) -> str:
    """The tenant URL of a tenant failing in the way `kind` says, for a whole day."""
    if kind == "never-registered":
        return tenant.url
    tenant.register("gw-0001", OTP)
    if kind == "503":
        tenant.fault("status", status=503, times=10**6)
        return tenant.url
    return f"https://127.0.0.1:{closed_port()}"


# A lifetime a little above renew_before: the tenant backdates by a minute, so every answer is due on arrival.
SHORT = {"validity": {"renew_before": "30h"}}
SHORT_LIFETIME = timedelta(hours=30, seconds=30)


def short_certificate_day(folder: Path, tenant, clock: FakeTime) -> Day:
    """A day against a tenant whose every certificate is due for renewal on arrival."""
    tenant.set_lifetime(SHORT_LIFETIME)
    state = device_state(folder, tenant.url, tenant.ca_bundle, renewal={"auth": "device-token", "token_url": tenant.token_url},
                         **SHORT)
    return hourly_day(state, clock, tenant=tenant)
