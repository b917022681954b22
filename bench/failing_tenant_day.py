"""Requests a day a failing tenant receives from one device under the shipped defaults (hourly timer
with a 5-minute spread; retry_every 30s, max_attempts 5, tenant.backoff 1h…24h), against the real
emulator, each simulated day in seconds (the clock is injected, nothing sleeps but MQTT token waits).
Counted where the requests arrive: the emulator's log (HTTPS and mTLS ports), the auth proxy's, the
MQTT token responder's, the connections a hang-up port took — never the client's own tally.

Enrollment (503, connections reset, a registration that never appears), renewal with each way of
getting a device token (the token cannot be had, or the renewal after it fails), and a tenant that
issues certificates already due on arrival. Bound: ≤ 30 requests from ≤ 6 runs.

"without backoff" is the same day with one change: every run passes --force (the persisted backoff
is skipped; max_attempts and everything else stay as shipped).

    python bench/failing_tenant_day.py [--days 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from c8y_emulator.server import TenantEmulator  # noqa: E402
from tests.reliability.simulated_day import (  # noqa: E402
    OTP,
    RENEWAL_FAILURES,
    failing_enrollment,
    failing_renewal,
    hourly_day,
    short_certificate_day,
    simulated_clock,
)

# "refused" (a closed port) is left out: nothing on the far side can count what it refuses; "reset" is its counted twin
CASES = [("enroll", kind) for kind in ("503", "reset", "never-registered")] + list(RENEWAL_FAILURES) + [("renew", "due-on-arrival")]


def one_day(auth: str, kind: str, seed: int, backoff: bool = True):
    with TenantEmulator() as tenant, tempfile.TemporaryDirectory() as folder:
        clock = simulated_clock(tenant)
        if kind == "due-on-arrival":
            tenant.register("gw-0001", OTP)
            return short_certificate_day(Path(folder), tenant, clock)
        failing = failing_enrollment(kind, tenant, Path(folder)) if auth == "enroll" else failing_renewal(auth, kind, tenant, Path(folder))
        with failing as (state, far):
            return hourly_day(state, clock, far, seed=seed, force=not backoff)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=5, help="simulated days per case (different timer spreads)")
    args = parser.parse_args()
    print(f"one device, 24 hourly runs a day, shipped defaults; {args.days} simulated days per case;")
    print("requests counted as the tenant's side received them")
    worst = 0, 0
    for auth, kind in CASES:
        days = [one_day(auth, kind, seed) for seed in range(1, args.days + 1)]
        requests = [day.requests for day in days]
        runs = [day.runs_asking for day in days]
        worst = max(worst[0], max(requests)), max(worst[1], max(runs))
        line = (f"  {auth + ' ' + kind:<28} requests/day median {statistics.median(requests):>4}  max {max(requests):>3}   "
                f"runs asking median {statistics.median(runs):>3}  max {max(runs):>2}")
        if kind != "due-on-arrival":  # the same day with every run forced past the backoff, for the ratio
            before = one_day(auth, kind, 1, backoff=False).requests
            line += f"   without backoff {before:>4}  ({before / statistics.median(requests):.1f}x)"
        print(line, flush=True)
    print(f"  worst day: {worst[0]} requests from {worst[1]} runs; bound: at most 30 requests, from at most 6 of the 24 runs")


if __name__ == "__main__":
    main()
