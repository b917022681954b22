"""Enrollment end to end: the `reconcile` process against the tenant emulator over real HTTPS."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest

from reconciler.basics.layout import state_file
from reconciler.x509.facts import certificate_info, load_certificates, load_private_key, public_key_id
from tests.tenant_device import OTP, make_device


def _cert_info(device):
    return certificate_info(load_certificates(device.cert.read_bytes())[0])


def test_first_enrollment_then_nothing_to_do(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    device = make_device(tmp_path, tenant)
    first = device.run("--output", "json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["status"] == "changed"
    assert report["after"]["certificate"]["issuer"] == "CN=management,O=Cumulocity,C=United States"
    info = _cert_info(device)
    assert info.subject_cn == "gw-0001"
    assert info.public_key_id == public_key_id(load_private_key(device.key.read_bytes()).public_key())
    (enroll,) = tenant.requests_to("simpleenroll")
    assert enroll.headers["Content-Type"] == "application/pkcs10"
    assert enroll.headers["Authorization"] == "Basic"
    assert enroll.body.endswith(b"\n")

    second = device.run("--detailed-exitcode")
    assert second.returncode == 0 and "converged" in second.stdout
    assert len(tenant.requests_to("simpleenroll")) == 1


def _after_first_attempt(tenant, action, *args):
    """Run `action` once the device has tried to enroll at least once (however slow its start)."""

    def wait_then_act():
        deadline = time.monotonic() + 30
        while not tenant.requests_to("simpleenroll") and time.monotonic() < deadline:
            time.sleep(0.02)
        action(*args)

    thread = threading.Thread(target=wait_then_act)
    thread.start()
    return thread


def test_waits_for_a_registration_that_appears_later(tmp_path, tenant):
    device = make_device(tmp_path, tenant, enrollment={"retry_every": "1s", "max_wait": "20s"})
    waiter = _after_first_attempt(tenant, tenant.register, "gw-0001", OTP)
    result = device.run()
    waiter.join()
    assert result.returncode == 0, result.stderr
    assert "No newDeviceRequest found for this ID" in result.stderr  # the tenant's words on each retry
    assert len(tenant.requests_to("simpleenroll")) >= 2


def test_pending_registration_is_waited_for_until_approved(tmp_path, tenant):
    tenant.register("gw-0001", OTP, approved=False)
    device = make_device(tmp_path, tenant, enrollment={"retry_every": "5s", "max_wait": "20s"})
    waiter = _after_first_attempt(tenant, tenant.approve, "gw-0001")
    result = device.run()
    waiter.join()
    assert result.returncode == 0, result.stderr
    assert "asks to wait (202)" in result.stderr
    assert len(tenant.requests_to("simpleenroll")) >= 2


def test_registration_that_never_arrives_ends_with_exit_7(tmp_path, tenant):
    device = make_device(tmp_path, tenant, enrollment={"retry_every": "1s", "max_wait": "2s"})
    result = device.run()
    assert result.returncode == 7
    assert "no certificate after" in result.stderr and "max_wait" in result.stderr
    assert device.live()[1] is None and not device.candidate.exists()


def test_wrong_one_time_password_is_retried_then_exit_7(tmp_path, tenant):
    tenant.register("gw-0001", "the-right-password")
    device = make_device(tmp_path, tenant, otp="the-wrong-password", enrollment={"max_wait": "1s"})
    result = device.run()
    assert result.returncode == 7
    assert "Invalid credentials" in result.stderr
    assert "the-wrong-password" not in result.stdout + result.stderr


def test_a_used_one_time_password_does_not_enroll_twice(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    first = make_device(tmp_path / "a", tenant)
    assert first.run().returncode == 0
    second = make_device(tmp_path / "b", tenant, enrollment={"max_wait": "0s"})
    result = second.run()
    assert result.returncode == 7 and "It may already be registered" in result.stderr


def test_server_errors_are_retried_with_backoff(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    tenant.fault("status", status=500, times=2)
    tenant.fault("status", status=503, retry_after="1")
    device = make_device(tmp_path, tenant, enrollment={"retry_every": "2s", "max_wait": "30s"})
    result = device.run()
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("the tenant is in trouble") == 3
    assert len(tenant.requests_to("simpleenroll")) == 4


def test_unreachable_tenant_ends_with_exit_8(tmp_path, tenant):
    device = make_device(tmp_path, tenant, tenant={"url": "https://127.0.0.1:9"}, enrollment={"max_wait": "2s"})
    result = device.run()
    assert result.returncode == 8
    assert "Connection refused" in result.stderr


def test_untrusted_tls_ends_with_exit_6_at_once(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    other = tmp_path / "other-ca.pem"
    other.write_bytes(tenant.ca.certificate_pem)  # a CA, but not the one behind the HTTPS server
    device = make_device(tmp_path, tenant, tenant={"ca_bundle": str(other)}, enrollment={"max_wait": "30s"})
    started = time.monotonic()
    result = device.run()
    assert result.returncode == 6
    assert "TLS failure talking to 127.0.0.1" in result.stderr and "CERTIFICATE_VERIFY_FAILED" in result.stderr
    assert time.monotonic() - started < 15


def test_slow_answers_time_out_and_are_retried(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    tenant.fault("slow", delay=3)
    device = make_device(tmp_path, tenant, tenant={"timeout": "1s"}, enrollment={"retry_every": "1s", "max_wait": "20s"})
    result = device.run()
    assert result.returncode == 0, result.stderr
    assert "did not answer within 1s" in result.stderr


def test_feature_disabled_ends_with_exit_6(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    tenant.feature_active = False
    device = make_device(tmp_path, tenant, enrollment={"max_wait": "30s"})
    result = device.run()
    assert result.returncode == 6
    assert "certificate-authority feature on?" in result.stderr


@pytest.mark.parametrize(
    "fault, options, message",
    [
        ("truncated", {}, "gave up after"),
        ("garbage", {}, "no usable certificate"),
        ("oversized", {"size": 2 * 1024 * 1024}, "refusing more than"),
        ("html", {"status": 404}, "certificate-authority feature on?"),
        ("wrong-key", {}, "its public key is not the device's key"),
        ("wrong-cn", {}, "its CN is 'gw-0001-other', not the device id 'gw-0001'"),
        ("expired", {}, "it expired on"),
        ("foreign-ca", {}, "it does not chain to the tenant CA"),
    ],
)
def test_hostile_or_broken_answers_leave_the_live_pair_untouched(tmp_path, tenant, fault, options, message):
    from tests.device_files import converged_device

    converged_device(tmp_path, age=timedelta(days=340), ca=tenant.ca)  # renewal is due
    tenant.registry.enrolled["gw-0001"] = "old"
    device = make_device(tmp_path, tenant, enrollment={"max_wait": "2s", "retry_every": "1s"})
    before = device.live()
    tenant.fault(fault, path="simplereenroll", times=5, **options)
    result = device.run()
    assert result.returncode in (6, 8), result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert device.live() == before
    assert not device.candidate.exists()


def test_pem_answer_and_201_and_transfer_encoding_are_accepted(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    tenant.success_status = 201
    tenant.send_transfer_encoding = True
    device = make_device(tmp_path, tenant)
    assert device.run().returncode == 0
    assert _cert_info(device).subject_cn == "gw-0001"


def test_configured_tenant_ca_is_checked(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    wrong = tmp_path / "wrong-ca.pem"
    wrong.write_bytes(tenant.tls_ca.certificate_pem)
    device = make_device(tmp_path, tenant, tenant={"ca_certificate": str(wrong)})
    result = device.run()
    assert result.returncode == 6 and "does not chain to the tenant CA" in result.stderr
    right = make_device(tmp_path / "ok", tenant, tenant={"ca_certificate": str(tenant.tenant_ca_file)})
    tenant.register("gw-0001", OTP)
    assert right.run().returncode == 0


@pytest.mark.parametrize("algorithm", ["ec-p384", "rsa-2048"])
def test_other_key_algorithms_enroll(tmp_path, tenant, algorithm):
    tenant.register("gw-0001", OTP)
    device = make_device(tmp_path, tenant, key={"algorithm": algorithm})
    assert device.run().returncode == 0
    assert _cert_info(device).key_algorithm == algorithm


def test_a_rejected_csr_ends_with_exit_6_at_once(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    tenant.fault("status", status=400, times=5)
    device = make_device(tmp_path, tenant, enrollment={"max_wait": "30s"})
    result = device.run()
    assert result.returncode == 6
    assert "rejected the CSR (400)" in result.stderr
    assert len(tenant.requests_to("simpleenroll")) == 1


def test_unknown_host_persisting_past_max_wait_ends_with_exit_8(tmp_path, tenant):
    device = make_device(tmp_path, tenant, tenant={"url": "https://tenant.does-not-exist.invalid"}, enrollment={"max_wait": "1s"})
    result = device.run()
    assert result.returncode == 8
    assert "cannot reach tenant.does-not-exist.invalid" in result.stderr


def test_a_first_certificate_already_due_is_stored_with_a_warning_and_the_next_request_waits(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    tenant.set_lifetime(timedelta(minutes=10))
    device = make_device(tmp_path, tenant, validity={"renew_before": "99%"})
    result = device.run()
    assert result.returncode == 0, result.stderr  # the spent password bought it: nothing better exists
    assert "warning: the tenant issued a certificate valid for 10m" in result.stdout
    assert "renew_before 99%" in result.stdout and device.cert.exists()
    history = json.loads(state_file(device.cert).read_text())
    assert history["tenant_failures"] == 1 and history["backoff_reason"] == "enroll:short-certificate"
    again = device.run()  # due for renewal at once, but the backoff holds the request back
    assert again.returncode == 9 and "backing off" in again.stderr
    assert len(tenant.requests_to("simpleenroll")) == 1 and tenant.requests_to("simplereenroll") == []


def test_https_proxy_from_the_environment_is_used_and_no_proxy_is_honoured(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    device = make_device(tmp_path, tenant, enrollment={"max_wait": "1s"})
    through_dead_proxy = device.run(env={"HTTPS_PROXY": "http://127.0.0.1:9"})
    assert through_dead_proxy.returncode == 8, through_dead_proxy.stderr
    assert not tenant.requests
    bypassing = device.run("--force", env={"HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1"})
    assert bypassing.returncode == 0, bypassing.stderr


def test_ctrl_c_while_waiting_stops_cleanly(tmp_path, tenant):
    import os
    import signal
    import subprocess

    from tests.conftest import RECONCILE

    device = make_device(tmp_path, tenant, enrollment={"retry_every": "1s", "max_wait": "1m"})
    env = {k: v for k, v in os.environ.items() if k != "TEDGE_CONFIG_DIR"}
    process = subprocess.Popen([*RECONCILE, "-f", str(device.state), "--config-dir", str(device.config_dir)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 20
    while len(tenant.requests_to("simpleenroll")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 130, err
    assert "interrupted; no file was left half-written" in err
    assert "Traceback" not in err
    assert not device.cert.exists() and not device.candidate.exists()
    assert not [p for p in device.cert.parent.iterdir() if p.name.endswith(".tmp")]
    tenant.register("gw-0001", OTP)
    assert device.run().returncode == 0  # the next run picks up where it stopped


def test_html_error_pages_from_a_front_end_are_retried(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    tenant.fault("html", status=502, times=2)
    device = make_device(tmp_path, tenant, enrollment={"retry_every": "1s", "max_wait": "20s"})
    result = device.run()
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("the tenant is in trouble (502): HTML page: 502 Error") == 2


def test_connections_reset_without_an_answer_end_as_unreachable(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    tenant.fault("reset", times=50)
    device = make_device(tmp_path, tenant, enrollment={"retry_every": "1s", "max_wait": "2s"})
    result = device.run()
    assert result.returncode == 8
    assert "gave up after" in result.stderr
    assert not device.cert.exists()


def test_a_missing_activation_command_blocks_before_the_password_is_spent(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    device = make_device(tmp_path, tenant, activation={"strategy": "command", "command": ["no-such-activator", "go"]})
    result = device.run()
    assert result.returncode == 4, result.stderr
    assert "DependencyMissing" in result.stdout and "no-such-activator, which is not installed" in result.stdout
    assert tenant.requests_to("simpleenroll") == [] and not device.key.exists()
    fixed = make_device(tmp_path, tenant, activation={"strategy": "command", "command": ["true"]})
    assert fixed.run().returncode == 0  # the one-time password was never spent


def test_the_activation_command_gets_the_environment_the_run_was_given(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    seen = tmp_path / "activation-environment"
    device = make_device(tmp_path, tenant, activation={"strategy": "command", "command": ["sh", "-c", f"env > {seen}"]})
    result = device.run(env={"GIVEN_TO_THE_RUN": "yes"})
    assert result.returncode == 0, result.stderr
    environment = dict(line.split("=", 1) for line in seen.read_text().splitlines() if "=" in line)
    assert environment["GIVEN_TO_THE_RUN"] == "yes"
    assert "PYDANTIC_DISABLE_PLUGINS" not in environment  # set only while the engine loads
