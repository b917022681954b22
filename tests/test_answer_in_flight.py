"""The tenant's answer while it is in flight: streamed into the reservation before the connection is
closed, and Ctrl-C or SIGTERM (systemd stopping the unit) held back until it is kept."""

from __future__ import annotations

import json
import signal
import subprocess
import time

from reconciler.c8y.http import _held_open, new_session
from tests.conftest import RECONCILE
from tests.tenant_device import OTP, make_device


def test_the_socket_of_an_answer_can_be_held_open_with_the_installed_http_libraries(tenant):
    # if a library upgrade moves these insides, the close inside the last read is a window again
    session = new_session(tenant.ca_bundle)
    with session.get(tenant.url + "/.well-known/est/cacerts", stream=True, timeout=5, verify=session.verify) as response:
        holder = _held_open(response)
        assert holder is not None
        holder.close()


def test_sigterm_while_the_tenant_answers_keeps_the_answer_and_the_next_run_finishes_without_asking(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    tenant.fault("slow", path="simpleenroll", delay=2)
    device = make_device(tmp_path, tenant)
    command = [*RECONCILE, "-f", str(device.state), "--config-dir", str(tmp_path)]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not tenant.requests_to("simpleenroll") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tenant.requests_to("simpleenroll"), "the request never reached the tenant"
    run.send_signal(signal.SIGTERM)  # the tenant is still composing its answer
    _, stderr = run.communicate(timeout=30)
    assert run.returncode == 130, stderr
    assert device.candidate.exists() and len(tenant.issued) == 1  # kept before the run stopped
    finished = device.run("--output", "json")
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout)["reasons"][0] == "CandidatePending"
    assert len(tenant.requests_to("simpleenroll")) == 1 and len(tenant.issued) == 1
