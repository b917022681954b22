"""Registering a fleet with `reconcile register` against the emulator: chunked bulk uploads vs one
request per device. Both run for real; prints time, requests and the ratio.

    python bench/register_fleet.py [--devices 10000] [--chunk-size 1000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from c8y_emulator.server import TenantEmulator  # noqa: E402


def register(tenant: TenantEmulator, source: Path, chunk_size: int) -> float:
    env = {**os.environ, "C8Y_USER": tenant.admin_user, "C8Y_PASSWORD": tenant.admin_password, "C8Y_TENANT": tenant.tenant_id}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "reconciler", "register", "--tenant", tenant.url,
                             "--ca-bundle", str(tenant.ca_bundle), "--from", str(source), "--chunk-size", str(chunk_size)],
                            capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-500:]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=10000)
    parser.add_argument("--chunk-size", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "fleet.csv"
        source.write_text("ID;ENROLLMENT_OTP\n" + "".join(f"gw-{i:06d};password-{i:06d}\n" for i in range(args.devices)))
        rows = {}
        for label, chunk in (("chunked", args.chunk_size), ("one per device", 1)):
            with TenantEmulator() as tenant:
                elapsed = register(tenant, source, chunk)
                requests = len(tenant.requests_to("bulkNewDeviceRequests"))
                assert len(tenant.registry.registrations) == args.devices
            rows[label] = (elapsed, requests)
    print(f"registering {args.devices} devices with reconcile register (emulator on loopback, HTTPS)")
    for label, (elapsed, requests) in rows.items():
        print(f"  {label:<15} {elapsed:7.2f} s   {requests:6d} requests")
    chunked, single = rows["chunked"], rows["one per device"]
    print(f"  time ratio one-per-device / chunked: {single[0] / chunked[0]:.1f}x; requests ratio {single[1] / chunked[1]:.0f}x")


if __name__ == "__main__":
    main()
