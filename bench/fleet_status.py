"""`reconcile fleet status` over an emulated fleet: requests the tenant received, wall time and peak
memory of the command (median of several runs, each in its own process), per output format.

    python bench/fleet_status.py [--devices 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import interleaved  # noqa: E402
from c8y_emulator.server import TenantEmulator  # noqa: E402
from tests.fleet_cli import seed_fleet  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with TenantEmulator() as tenant:
        with_fragment = len(seed_fleet(tenant, args.devices))
        for n in range(20):
            tenant.register(f"never-{n:02d}", f"password-{n:04d}")
        env = {**os.environ, "C8Y_USER": tenant.admin_user, "C8Y_PASSWORD": tenant.admin_password, "C8Y_TENANT": tenant.tenant_id}
        base = [sys.executable, "-m", "reconciler", "fleet", "status", "--tenant", tenant.url, "--ca-bundle", str(tenant.ca_bundle)]
        commands = {f"status --output {fmt}": base + ["--output", fmt] for fmt in ("table", "json", "csv")}
        commands["status --expiring-within 30d"] = base + ["--expiring-within", "30d", "--output", "json"]
        requests = {}
        for name, argv in commands.items():  # one run each, alone, to count what the tenant received
            before = len(tenant.requests)
            interleaved({name: argv}, 1, env)
            requests[name] = len(tenant.requests) - before
        results = interleaved(commands, args.runs, env)
    print(f"reconcile fleet status: {args.devices} devices ({with_fragment} with deviceCertificate), emulator on loopback, HTTPS")
    print(f"  {'command':<30} {'requests':>8} {'median':>8} {'p95':>8} {'peak RSS':>10}   exit")
    for name, row in results.items():
        print(f"  {name:<30} {requests[name]:8d} {row['median_s']:7.2f}s {row['p95_s']:7.2f}s "
              f"{row['peak_rss_mib']:8.1f} MiB   {row['exit_codes']}")


if __name__ == "__main__":
    main()
