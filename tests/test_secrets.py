"""Secrets never reach output, logs (text or JSON), reports or files (run history, metrics, journal):
run everything at the most verbose level and grep."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta

from c8y_emulator.token_responder import TokenResponder
from reconciler.basics.layout import state_file
from tests.conftest import RECONCILE
from tests.device_files import converged_device
from tests.tenant_device import make_device

OTP = "S3cret-Otp-Never-Shown-42"
WRONG_OTP = "Wr0ng-Otp-Never-Shown-17"


def _everything_written(folder) -> bytes:
    """What the runs wrote (the test's own inputs, the password files, and key files excepted)."""
    inputs = ("otp", "devices.yaml")
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.name not in inputs and "key" not in p.name)


def test_no_secret_in_any_output_at_full_verbosity(tmp_path, tenant, local_broker):
    outputs = []
    env = {**os.environ, "C8Y_USER": tenant.admin_user, "C8Y_PASSWORD": tenant.admin_password, "C8Y_TENANT": tenant.tenant_id}
    source = tmp_path / "devices.yaml"
    source.write_text(f"- {{id: gw-0001, otp: {OTP}}}\n")
    register = subprocess.run([*RECONCILE, "register", "--tenant", tenant.url, "--ca-bundle", str(tenant.ca_bundle),
                               "--from", str(source), "--output", "json"], capture_output=True, text=True, env=env)
    assert register.returncode == 0, register.stderr
    outputs.append(register.stdout + register.stderr)

    device_dir = tmp_path / "device"
    device = make_device(device_dir, tenant, otp=OTP, enrollment={"max_wait": "0s"})
    for output in ("text", "json"):
        run = device.run("-vv", "--output", output)
        outputs.append(run.stdout + run.stderr)
    assert device.cert.exists()

    # JSON logs, the run history and the metrics file: a refused password first, then the right one
    json_dir = tmp_path / "json-logs"
    tenant.register("gw-0002", OTP)
    metrics = tmp_path / "metrics" / "tedge-cert.prom"
    for otp, expected in ((WRONG_OTP, 7), (OTP, 0)):
        device = make_device(json_dir, tenant, otp=otp, device_id="gw-0002", enrollment={"max_wait": "0s"})
        run = device.run("-vv", "--log-format", "json", "--metrics-file", str(metrics))
        assert run.returncode == expected, run.stderr
        outputs.append(run.stdout + run.stderr)
    history = json.loads(state_file(device.cert).read_text())
    assert history["last_failure"]["exit_code"] == 7 and history["consecutive_failures"] == 0
    assert metrics.exists()

    renew_dir = tmp_path / "renew"
    converged_device(renew_dir, age=timedelta(days=340), ca=tenant.ca)
    with TokenResponder(tenant, "gw-0001", "127.0.0.1", local_broker.port):
        renewing = make_device(renew_dir, tenant, otp=OTP, renewal={"auth": "mqtt", "local_broker": local_broker.address})
        run = renewing.run("-vv", "--output", "json")
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout + run.stderr)
    renewing_token = make_device(renew_dir / "t", tenant)
    converged_device(renew_dir / "t", age=timedelta(days=340), ca=tenant.ca)
    run = renewing_token.run("-vv")
    assert run.returncode == 0, run.stderr
    outputs.append(run.stdout + run.stderr)

    secrets = [OTP, WRONG_OTP, tenant.admin_password, *tenant.tokens_issued]
    assert len(tenant.tokens_issued) >= 2
    text = "\n".join(outputs)
    assert "DEBUG" in text or "INFO" in text, "the runs were verbose"
    for secret in secrets:
        assert secret not in text
    files = _everything_written(tmp_path)
    for secret in secrets:
        assert secret.encode() not in files
    assert b"PRIVATE KEY" not in text.encode()
