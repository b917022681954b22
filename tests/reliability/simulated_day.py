"""A day of hourly timer runs in seconds: the engine and the tenant client with an injected clock,
against the real emulator over HTTPS. Shared by tests/reliability and bench/failing_tenant_day.py.

Requests are counted where they arrive (FarSide): the emulator's request log (its HTTPS and mTLS
ports), the auth proxy's log, the MQTT token responder's, the connections a hang-up port took —
never what the client believes it sent."""

from __future__ import annotations

import io
import random
import socket
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from c8y_emulator.auth_proxy import VIA, AuthProxy
from c8y_emulator.hang_up import HangUpPort
from c8y_emulator.token_responder import TokenResponder
from reconciler.c8y.authority import TenantAuthority
from reconciler.c8y.retry import Pace
from reconciler.desired.load import load_desired_state
from reconciler.desired.resolve import resolve
from reconciler.desired.tedge_toml import load_tedge_config
from reconciler.planning.backends import Backends
from reconciler.runs.engine import reconcile

OTP = "one-time-pass-0001"
TIMER_SPREAD = 300  # seconds a run may start after the hour (the timer's offset is fixed; the rest is load)
MQTT_WAIT = 0.2  # real seconds per token request over MQTT in a simulated day (the shipped 20 s would take minutes)


class FarSide:
    """Everything the tenant's side received: the emulator's requests (except those the auth proxy
    forwarded: each is already counted once, at the proxy), plus the logs of the proxy, the MQTT
    token responder and hang-up ports."""

    def __init__(self, tenant, proxies=(), responders=(), ports=()):
        self.tenant, self.proxies, self.responders, self.ports = tenant, list(proxies), list(responders), list(ports)

    def received(self) -> int:
        direct = sum(1 for seen in list(self.tenant.requests)
                     if {k.lower(): v for k, v in seen.headers.items()}.get("via") != VIA)
        return (direct + sum(len(proxy.requests) for proxy in self.proxies)
                + sum(len(responder.received) for responder in self.responders)
                + sum(len(port.connections) for port in self.ports))


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
    requests: int  # what the tenant's side received in this run (FarSide)


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
        "report": {"twin": "off"},  # the day counts the tenant's side; the twin has its own tests
        **sections,
    }
    path = folder / "state.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def one_run(state: Path, clock: FakeTime, far: FarSide, force: bool = False):
    """A timer run at the fake clock's time; returns the report and the requests the tenant's side
    received during it (`far`): EST, device tokens, CA certificates, connections reset."""
    seen = far.received()
    spec = resolve(load_desired_state(state), load_tedge_config(state.parent), state.parent)

    def authority(the_spec):
        enrollment = the_spec.enrollment
        pace = Pace(enrollment.retry_every.total_seconds(), enrollment.max_wait.total_seconds(), enrollment.max_attempts,
                    clock=clock.monotonic, sleep=clock.sleep, wall=clock.now)
        return TenantAuthority(the_spec, pace=pace, progress_stream=io.StringIO(), mqtt_wait=MQTT_WAIT)

    report = reconcile(spec, dry_run=False, backends=Backends(authority=authority), clock=clock.now, lock_timeout=5, force=force)
    return report, far.received() - seen


def hourly_day(state: Path, clock: FakeTime, far: FarSide, hours: int = 24, seed: int = 1, force: bool = False) -> Day:
    """`hours` timer runs, one an hour, each delayed by up to the timer's spread (`force`: past any backoff)."""
    draw = random.Random(seed)
    day = Day()
    for hour in range(hours):
        clock.advance_to(hour * 3600 + draw.uniform(0, TIMER_SPREAD))
        report, requests = one_run(state, clock, far, force)
        day.runs.append(RunRecord(hour, report.exit_code(), requests))
    return day


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the with block ends: connections are refused


ENROLLMENT_FAILURES = ("503", "reset", "refused", "never-registered")


@contextmanager
def failing_enrollment(kind: str, tenant, folder: Path):
    """A desired state whose enrollment meets a tenant failing the way `kind` says for a whole day,
    and the far side that counts what it receives. `refused` (a closed port) receives nothing
    countable: only exit codes can be asserted for it; `reset` is the counted equivalent."""
    with ExitStack() as stack:
        far, url = FarSide(tenant), tenant.url
        if kind != "never-registered":
            tenant.register("gw-0001", OTP)
        if kind == "503":
            tenant.fault("status", status=503, times=10**6)
        elif kind == "reset":
            port = stack.enter_context(HangUpPort())
            far.ports.append(port)
            url = port.url
        elif kind == "refused":
            url = f"https://127.0.0.1:{closed_port()}"
        yield device_state(folder, url, tenant.ca_bundle), far


# (auth, failure) of a renewal against a failing tenant: the device token cannot be had, or the EST
# request after it fails
RENEWAL_FAILURES = (
    ("device-token", "token-503"), ("device-token", "token-reset"), ("device-token", "est-503"),
    ("tedge-proxy", "token-503"), ("tedge-proxy", "proxy-reset"),
    ("mqtt", "token-unanswered"),
)


@contextmanager
def failing_renewal(auth: str, kind: str, tenant, folder: Path):
    """A device due for renewal with `renewal.auth: auth`, against a tenant failing as `kind` says."""
    from tests.device_files import converged_device
    from tests.mosquitto import Mosquitto

    converged_device(folder, age=timedelta(days=340), ca=tenant.ca)  # due for renewal
    tenant.registry.enrolled["gw-0001"] = "old"
    with ExitStack() as stack:
        far = FarSide(tenant)
        renewal: dict = {"auth": auth}
        if auth == "device-token":
            renewal["token_url"] = tenant.token_url
            if kind == "token-503":
                tenant.fault("status", path="deviceAccessToken", status=503, times=10**6)
            elif kind == "token-reset":
                port = stack.enter_context(HangUpPort())
                far.ports.append(port)
                renewal["token_url"] = f"{port.url}/devicecontrol/deviceAccessToken"
            else:
                tenant.fault("status", path="simplereenroll", status=503, times=10**6)
        elif auth == "tedge-proxy":
            if kind == "proxy-reset":
                port = stack.enter_context(HangUpPort())
                far.ports.append(port)
                renewal["proxy_url"] = f"http://127.0.0.1:{port.port}/c8y"
            else:
                proxy = stack.enter_context(AuthProxy(tenant, "gw-0001", token_fails=True))
                far.proxies.append(proxy)
                renewal["proxy_url"] = proxy.url
        else:
            broker = Mosquitto(folder / "local-broker")
            stack.callback(broker.stop)
            responder = stack.enter_context(TokenResponder(tenant, "gw-0001", "127.0.0.1", broker.port, answering=False))
            far.responders.append(responder)
            renewal["local_broker"] = broker.address
        yield device_state(folder, tenant.url, tenant.ca_bundle, renewal=renewal), far


# A lifetime a little above renew_before: the tenant backdates by a minute, so every answer is due on arrival.
SHORT = {"validity": {"renew_before": "30h"}}
SHORT_LIFETIME = timedelta(hours=30, seconds=30)


def short_certificate_day(folder: Path, tenant, clock: FakeTime) -> Day:
    """A day against a tenant whose every certificate is due for renewal on arrival."""
    tenant.set_lifetime(SHORT_LIFETIME)
    state = device_state(folder, tenant.url, tenant.ca_bundle, renewal={"auth": "device-token", "token_url": tenant.token_url},
                         **SHORT)
    return hourly_day(state, clock, FarSide(tenant))
