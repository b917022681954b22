"""Issue 8's bounds, over simulated days against the real emulator: a failing tenant hears from a
device at most 30 times a day from at most 6 of its 24 hourly runs — enrollment, and renewal with
each way of getting a device token — counted where the requests arrive (simulated_day.FarSide);
a registration that appears a minute late is still taken up within one retry_every; short
certificates never cause a request on every run; and the backoff persists, ends with success or a
new desired state, and yields to --force."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from reconciler.basics.layout import state_file
from tests.conftest import RECONCILE
from tests.reliability.simulated_day import (
    ENROLLMENT_FAILURES,
    OTP,
    RENEWAL_FAILURES,
    FarSide,
    device_state,
    failing_enrollment,
    failing_renewal,
    hourly_day,
    one_run,
    short_certificate_day,
    simulated_clock,
)

BOUND_REQUESTS, BOUND_RUNS = 30, 6


@pytest.mark.parametrize("kind", ENROLLMENT_FAILURES)
@pytest.mark.parametrize("seed", [1, 2])
def test_a_tenant_failing_all_day_hears_from_a_device_at_most_30_times_in_at_most_6_runs(tmp_path, tenant, kind, seed):
    with failing_enrollment(kind, tenant, tmp_path) as (state, far):
        day = hourly_day(state, simulated_clock(tenant), far, seed=seed)
    assert day.requests <= BOUND_REQUESTS and day.runs_asking <= BOUND_RUNS, day.runs
    assert {run.exit_code for run in day.runs} <= {7, 8, 9}
    assert sum(run.exit_code == 9 for run in day.runs) >= 24 - BOUND_RUNS  # the others held back, saying why
    if kind != "refused":  # a closed port receives nothing to count: for it, the runs held back are the evidence
        assert day.requests > 0 and all(run.requests == 0 for run in day.runs if run.exit_code == 9), day.runs


@pytest.mark.parametrize("auth,kind", RENEWAL_FAILURES)
def test_a_renewal_against_a_tenant_failing_all_day_is_bounded_too_tokens_included(tmp_path, tenant, auth, kind):
    with failing_renewal(auth, kind, tenant, tmp_path) as (state, far):
        day = hourly_day(state, simulated_clock(tenant), far)
    assert day.requests <= BOUND_REQUESTS and day.runs_asking <= BOUND_RUNS, day.runs
    assert day.requests > 0 and all(run.requests == 0 for run in day.runs if run.exit_code == 9), day.runs
    assert {run.exit_code for run in day.runs} <= {8, 9}, day.runs
    assert sum(run.exit_code == 9 for run in day.runs) >= 24 - BOUND_RUNS
    assert tenant.issued == []


def test_a_registration_that_appears_a_minute_late_is_taken_up_within_one_retry_every(tmp_path, tenant):
    clock = simulated_clock(tenant)
    clock.at.append((60.0, lambda: tenant.register("gw-0001", OTP)))
    state = device_state(tmp_path, tenant.url, tenant.ca_bundle)
    report, requests = one_run(state, clock, FarSide(tenant))
    assert report.exit_code() == 0 and report.changed, report.failed
    retry_every = 30
    assert 60 <= clock.elapsed <= 60 + retry_every * 1.1  # the default retry_every, with its jitter
    assert len(tenant.requests_to("simpleenroll")) <= 5
    assert requests == len(tenant.requests_to("simpleenroll")) + len(tenant.requests_to("cacerts"))


def test_certificates_due_on_arrival_are_kept_when_nothing_better_exists_and_never_asked_for_every_run(tmp_path, tenant):
    tenant.register("gw-0001", OTP)  # a first enrollment: whatever arrives is better than nothing
    day = short_certificate_day(tmp_path, tenant, simulated_clock(tenant))
    asked = len(tenant.requests_to("simpleenroll")) + len(tenant.requests_to("simplereenroll"))
    assert asked == len(tenant.issued) and 3 <= asked <= BOUND_RUNS, day.runs
    assert day.requests <= BOUND_REQUESTS  # tokens and CA certificates included
    assert {run.exit_code for run in day.runs} <= {0, 9}  # each stored with a warning (0), then waited for (9)
    history = _history(tmp_path)
    assert history["backoff_reason"] == "reenroll:short-certificate" and history["consecutive_failures"] == 0


def test_the_backoff_persists_and_ends_with_force_then_success(tmp_path, tenant):
    state = device_state(tmp_path, tenant.url, tenant.ca_bundle)  # not registered yet
    clock = simulated_clock(tenant)
    first, _ = one_run(state, clock, FarSide(tenant))
    assert first.exit_code() == 7
    history = _history(tmp_path)
    assert history["tenant_failures"] == 1 and history["backoff_reason"] == "enroll:timed_out"
    clock.advance_to(clock.elapsed + 600)  # ten minutes later: well inside the first hour
    held, requests = one_run(state, clock, FarSide(tenant))
    assert held.exit_code() == 9 and requests == 0 and held.status == "backoff"
    assert "no request before" in held.backoff_message and "--force" in held.backoff_message
    tenant.register("gw-0001", OTP)
    forced, _ = one_run(state, clock, FarSide(tenant), force=True)
    assert forced.exit_code() == 0 and forced.changed
    history = _history(tmp_path)
    assert history["tenant_failures"] == 0 and history["backoff_until"] is None


def test_a_new_desired_state_ends_the_backoff(tmp_path, tenant):
    state = device_state(tmp_path, tenant.url, tenant.ca_bundle)
    clock = simulated_clock(tenant)
    assert one_run(state, clock, FarSide(tenant))[0].exit_code() == 7
    tenant.register("gw-0001", OTP)
    data = yaml.safe_load(state.read_text())
    data["enrollment"]["retry_every"] = "20s"  # someone fixed something: try again at once
    state.write_text(yaml.safe_dump(data))
    assert one_run(state, clock, FarSide(tenant))[0].exit_code() == 0


def test_the_pause_doubles_from_first_up_to_max(tmp_path, tenant):
    state = device_state(tmp_path, tenant.url, tenant.ca_bundle, tenant={"url": tenant.url, "ca_bundle": str(tenant.ca_bundle),
                                                                        "backoff": {"first": "10m", "max": "30m"}})
    clock = simulated_clock(tenant)
    pauses = []
    for _ in range(4):
        one_run(state, clock, FarSide(tenant), force=True)
        history = _history(tmp_path)
        until = history["backoff_until"]
        pauses.append((_parse(until) - clock.now()).total_seconds() / 60)
    for pause, base in zip(pauses, (10, 20, 30, 30)):  # 10m, doubled, then capped at 30m (the spread too)
        assert base - 0.1 <= pause <= min(base * 1.1, 30) + 0.01, pauses


def test_twenty_concurrent_runs_ask_the_tenant_once_and_leave_a_matching_pair(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    state = device_state(tmp_path, tenant.url, tenant.ca_bundle)
    command = [*RECONCILE, "-f", str(state), "--config-dir", str(tmp_path), "--output", "json"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(20)]
    results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    assert all(code == 0 for code, _, _ in results), [err for code, _, err in results if code]
    assert len(tenant.requests_to("simpleenroll")) == 1 and len(tenant.issued) == 1
    statuses = sorted(json.loads(out)["status"] for _, out, _ in results)
    assert statuses == ["changed"] + ["converged"] * 19
    _assert_matching_pair(tmp_path)


def _history(folder: Path) -> dict:
    return json.loads(state_file(folder / "device-certs" / "tedge-certificate.pem").read_text())


def _parse(text: str):
    from reconciler.basics.timestamps import parse_time

    return parse_time(text)


def _assert_matching_pair(folder: Path) -> None:
    from reconciler.x509.facts import load_certificates, load_private_key, public_key_id

    certs = folder / "device-certs"
    key = load_private_key((certs / "tedge-private-key.pem").read_bytes())
    cert = load_certificates((certs / "tedge-certificate.pem").read_bytes())[0]
    assert public_key_id(key.public_key()) == public_key_id(cert.public_key())


def test_a_renewal_rolled_back_after_a_failed_activation_waits_before_asking_again(tmp_path, tenant):
    from tests.device_files import converged_device

    clock = simulated_clock(tenant)
    converged_device(tmp_path, age=timedelta(days=340), ca=tenant.ca)
    tenant.registry.enrolled["gw-0001"] = "old"
    state = device_state(tmp_path, tenant.url, tenant.ca_bundle, renewal={"auth": "device-token", "token_url": tenant.token_url},
                         activation={"strategy": "command", "command": ["false"], "verify": "none"})
    day = hourly_day(state, clock, FarSide(tenant))
    assert [run.exit_code for run in day.runs if run.requests] == [1] * day.runs_asking  # each one rolled back
    assert len(tenant.issued) == day.runs_asking <= BOUND_RUNS
    assert _history(tmp_path)["backoff_reason"] == "activate:error"


def test_a_new_one_time_password_in_the_same_file_ends_the_backoff(tmp_path, tenant):
    state = device_state(tmp_path, tenant.url, tenant.ca_bundle)
    clock = simulated_clock(tenant)
    assert one_run(state, clock, FarSide(tenant))[0].exit_code() == 7  # nobody registered this password
    assert one_run(state, clock, FarSide(tenant))[0].exit_code() == 9
    tenant.register("gw-0001", "a-new-password-0002")
    (tmp_path / "otp").write_text("a-new-password-0002\n")  # the operator registered again
    assert one_run(state, clock, FarSide(tenant))[0].exit_code() == 0
    assert "a-new-password" not in json.dumps(_history(tmp_path))


def test_status_shows_the_backoff_as_the_engine_judges_it(tmp_path, tenant):
    from tests.tenant_device import make_device

    device = make_device(tmp_path, tenant, enrollment={"max_wait": "1s", "retry_every": "1s"})  # not registered
    assert device.run().returncode == 7

    def status() -> dict:
        found = subprocess.run([*RECONCILE, "status", "-f", str(device.state), "--config-dir", str(tmp_path), "--output", "json"],
                               capture_output=True, text=True)
        return json.loads(found.stdout)

    held = status()
    assert held["backing_off"] is True and held["tenant_failures"] == 1 and held["backoff_reason"] == "enroll:timed_out"
    assert device.run().returncode == 9
    make_device(tmp_path, tenant, enrollment={"max_wait": "1s", "retry_every": "2s"})  # a new desired state
    assert status()["backing_off"] is False  # the engine would ask again: status says so too


def test_a_tenant_retry_after_beyond_max_wait_ends_the_run_and_no_run_asks_before_it_even_past_the_backoff(tmp_path, tenant):
    tenant.register("gw-0001", OTP, approved=False)  # manual approval: 202 + Retry-After
    tenant.pending_retry_after = 3600
    backoff = {"url": tenant.url, "ca_bundle": str(tenant.ca_bundle), "backoff": {"first": "10m", "max": "30m"}}
    state = device_state(tmp_path, tenant.url, tenant.ca_bundle, tenant=backoff)
    clock, far = simulated_clock(tenant), FarSide(tenant)
    first, requests = one_run(state, clock, far)
    asked_at = clock.now()
    assert first.exit_code() == 7 and requests == 1, first.failed  # ended at once, not asked again within max_wait
    assert "wait 1h (Retry-After)" in first.failed.message and "no request before" in first.failed.message
    history = _history(tmp_path)
    assert history["backoff_reason"] == "enroll:retry-after"
    assert _parse(history["tenant_wait_until"]) >= asked_at.replace(microsecond=0) + timedelta(hours=1)
    for minutes in (15, 35, 55):  # past the 10m backoff and its 30m cap: the tenant's wait still holds
        clock.advance_to(minutes * 60)
        held, requests = one_run(state, clock, far)
        assert held.exit_code() == 9 and requests == 0, (minutes, held.failed)
    tenant.approve("gw-0001")
    clock.advance_to(61 * 60 + 1)
    done, requests = one_run(state, clock, far)
    assert done.exit_code() == 0 and done.changed and len(tenant.requests_to("simpleenroll")) == 2


def test_force_asks_before_the_tenants_retry_after(tmp_path, tenant):
    tenant.register("gw-0001", OTP, approved=False)
    tenant.pending_retry_after = 3600
    state = device_state(tmp_path, tenant.url, tenant.ca_bundle)
    clock, far = simulated_clock(tenant), FarSide(tenant)
    assert one_run(state, clock, far)[0].exit_code() == 7
    tenant.approve("gw-0001")
    assert one_run(state, clock, far)[0].exit_code() == 9
    forced, requests = one_run(state, clock, far, force=True)
    assert forced.exit_code() == 0 and requests >= 1
    assert _history(tmp_path)["tenant_wait_until"] is None
