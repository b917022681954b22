"""`reconcile fleet` as a process against the emulator, and fleets of devices seeded into it."""

from __future__ import annotations

import os
import random
import subprocess
import time

from tests.conftest import RECONCILE


def fleet(tenant, *args, timeout: float = 120, password: str | None = None, **popen) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("C8Y_")}
    env.update(C8Y_USER=tenant.admin_user, C8Y_PASSWORD=password or tenant.admin_password, C8Y_TENANT=tenant.tenant_id)
    action, *rest = args
    return subprocess.run([*RECONCILE, "fleet", action, "--tenant", tenant.url, "--ca-bundle", str(tenant.ca_bundle), *rest],
                          capture_output="stderr" not in popen, text=True, env=env, timeout=timeout, **popen)


def fragment(device: str, not_after_epoch: int, failures: int = 0, reason: str | None = None) -> dict:
    """A deviceCertificate fragment as the device's twin publishes it."""
    return {"deviceCertificate": {
        "serialNumber": format(not_after_epoch, "x"), "issuer": "CN=management,O=Cumulocity,C=United States",
        "subject": f"CN={device},O=Thin Edge,OU=Device", "notBefore": "2026-01-01T00:00:00Z",
        "notAfter": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(not_after_epoch)),
        "renewAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(not_after_epoch - 30 * 86400)),
        "notAfterEpoch": not_after_epoch, "renewAtEpoch": not_after_epoch - 30 * 86400, "keyAlgorithm": "EC P-256",
        "lastRun": {"time": "2026-12-07T12:00:00Z", "status": "failed" if failures else "converged", "exitCode": 8 if failures else 0},
        "consecutiveFailures": failures, "backoffUntil": None, "lastFailureReason": reason,
        "tool": {"name": "tedge-cert-reconciler", "version": "0.1.0"}}}


def seed_fleet(tenant, count: int, seed: int = 12, every_without: int = 97, every_failing: int = 53):
    """`count` devices dev-00000...: expiries shuffled over the next 400 days, every `every_without`-th
    without the fragment, every `every_failing`-th failing. Returns {device: notAfterEpoch} of those with one."""
    now = int(time.time())
    offsets = list(range(count))
    random.Random(seed).shuffle(offsets)
    expiries = {}

    def extra(number: int) -> dict:
        device = f"dev-{number:05d}"
        if number % every_without == 0:
            return {}
        expiries[device] = now + 3600 + offsets[number] * (400 * 86400 // count)
        failures = 2 if number % every_failing == 0 else 0
        return fragment(device, expiries[device], failures, "the tenant could not be reached" if failures else None)

    tenant.seed_devices(count, extra)
    return expiries
