"""Requests a day a failing tenant receives from one device under the shipped defaults (hourly timer
with a 5-minute spread; retry_every 30s, max_attempts 5, tenant.backoff 1h…24h), against the real
emulator, each simulated day in about a second (the clock is injected, nothing sleeps). Also the
same for a tenant that issues certificates already due on arrival. Bound: ≤ 30 requests from ≤ 6 runs.

    python bench/failing_tenant_day.py [--days 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reconciler.emulator.server import TenantEmulator  # noqa: E402
from tests.reliability.simulated_day import (  # noqa: E402
    OTP,
    device_state,
    failing_tenant,
    hourly_day,
    short_certificate_day,
    simulated_clock,
    without_backoff,
)

KINDS = ("503", "refused", "never-registered", "due-on-arrival")


def one_day(kind: str, seed: int, backoff: bool = True):
    with TenantEmulator() as tenant, tempfile.TemporaryDirectory() as folder:
        clock = simulated_clock(tenant)
        if kind == "due-on-arrival":
            tenant.register("gw-0001", OTP)
            return short_certificate_day(Path(folder), tenant, clock)
        state = device_state(Path(folder), failing_tenant(kind, tenant), tenant.ca_bundle)
        if not backoff:
            without_backoff(state)
        counted = None if kind == "refused" else tenant  # what the emulator saw: EST, tokens, CA certificates
        return hourly_day(state, clock, seed=seed, force=not backoff, tenant=counted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=5, help="simulated days per kind (different timer spreads)")
    args = parser.parse_args()
    print(f"one device, 24 hourly runs a day, shipped defaults; {args.days} simulated days per kind")
    for kind in KINDS:
        days = [one_day(kind, seed) for seed in range(1, args.days + 1)]
        requests = [day.requests for day in days]
        runs = [day.runs_asking for day in days]
        line = (f"  {kind:<17} requests/day median {statistics.median(requests):>4}  max {max(requests):>3}   "
                f"runs asking median {statistics.median(runs):>3}  max {max(runs):>2}")
        if kind != "due-on-arrival":  # the same day without the backoff, for the ratio
            before = one_day(kind, 1, backoff=False).requests
            line += f"   without backoff {before:>4}  ({before / statistics.median(requests):.0f}x more)"
        print(line)
    print("  bound: at most 30 requests a day, from at most 6 of the 24 runs")


if __name__ == "__main__":
    main()
