"""The four device situations the crash points are taken in, each from a fresh folder under a
device id of its own (the tenant is shared within a scenario).

Renewal situations start from a key and a certificate signed by the emulator's own tenant CA and
aged into the renewal window (as tests/test_renewal_e2e.py does): the same files an enrollment
leaves, with no clock to wait for, and nothing in the tenant's `issued` list for it yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

from c8y_emulator.server import TenantEmulator
from tests.device_files import converged_device
from tests.tenant_device import OTP, Device, make_device

# One enrollment attempt: a spent one-time password makes the recovery fail at once, not after
# retries. A generous timeout: a busy machine must not turn into a retry, which would shift the points.
SETTINGS = {"enrollment": {"max_wait": "0s"}, "tenant": {"timeout": "30s"}}
DUE = timedelta(days=340)  # of a 365-day certificate: inside the default 30-day renewal window


@dataclass(frozen=True)
class Scenario:
    name: str
    prepare: Callable[[Path, TenantEmulator, str], Device]  # (empty folder, tenant, device id): the device before the run

    def __str__(self) -> str:  # the pytest id
        return self.name


def _first_enrollment(folder: Path, tenant: TenantEmulator, device_id: str) -> Device:
    tenant.register(device_id, OTP)
    return make_device(folder, tenant, device_id=device_id, **SETTINGS)


def _renewal(folder: Path, tenant: TenantEmulator, device_id: str) -> Device:
    converged_device(folder, device_id=device_id, age=DUE, ca=tenant.ca)
    return make_device(folder, tenant, device_id=device_id, **SETTINGS)


def _renewal_with_key_rotation(folder: Path, tenant: TenantEmulator, device_id: str) -> Device:
    converged_device(folder, device_id=device_id, age=DUE, ca=tenant.ca)
    return make_device(folder, tenant, device_id=device_id, key={"rotate_on_renewal": True}, **SETTINGS)


def _key_algorithm_change(folder: Path, tenant: TenantEmulator, device_id: str) -> Device:
    converged_device(folder, device_id=device_id, ca=tenant.ca)  # ec-p256, fresh: the live pair is healthy
    return make_device(folder, tenant, device_id=device_id, key={"algorithm": "ec-p384"}, **SETTINGS)


SCENARIOS = (
    Scenario("first-enrollment", _first_enrollment),
    Scenario("renewal", _renewal),
    Scenario("renewal-with-key-rotation", _renewal_with_key_rotation),
    Scenario("key-algorithm-change", _key_algorithm_change),
)
