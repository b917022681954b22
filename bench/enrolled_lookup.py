"""Looking up which devices have enrolled before registering them (one identity request per device):
in a row vs `LOOKUP_WORKERS` at a time, against the emulator delaying every answer by a round trip
to a real tenant. Prints both times and the ratio.

    python bench/enrolled_lookup.py [--devices 200] [--rtt-ms 50]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from c8y_emulator.server import TenantEmulator  # noqa: E402
from reconciler.c8y.admin import AdminClient, AdminCredentials  # noqa: E402
from reconciler.c8y.registration import LOOKUP_WORKERS, enrolled_devices  # noqa: E402


def timed(device_ids: list[str], workers: int, rtt: float) -> float:
    with TenantEmulator() as tenant:
        for device_id in device_ids[::2]:  # half the fleet has enrolled
            tenant.inventory.device_enrolled(device_id)
        tenant.fault("slow", path="", times=10**9, delay=rtt)  # every answer, as far away as a real tenant
        admin = AdminClient(tenant.url, AdminCredentials(tenant.admin_user, tenant.admin_password, tenant.tenant_id),
                            tenant.ca_bundle)
        start = time.perf_counter()
        found = enrolled_devices(admin, device_ids, workers=workers)
        elapsed = time.perf_counter() - start
        assert len(found) == len(device_ids[::2]) and admin.requests_made == len(device_ids)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--rtt-ms", type=float, default=50)
    args = parser.parse_args()
    device_ids = [f"gw-{i:06d}" for i in range(args.devices)]
    serial = timed(device_ids, 1, args.rtt_ms / 1000)
    parallel = timed(device_ids, LOOKUP_WORKERS, args.rtt_ms / 1000)
    print(f"looking up {args.devices} devices, {args.rtt_ms:g} ms per answer (emulator on loopback, HTTPS)")
    print(f"  one at a time     {serial:7.2f} s")
    print(f"  {LOOKUP_WORKERS} at a time       {parallel:7.2f} s")
    print(f"  ratio: {serial / parallel:.1f}x")


if __name__ == "__main__":
    main()
