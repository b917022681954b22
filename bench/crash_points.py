"""Crash points per scenario: how many state-changing calls each reconcile makes, by system call.

    python bench/crash_points.py            # the counts table (one traced run per scenario, ~10 s)
    python bench/crash_points.py --kill     # also kill at every point and list what failed (minutes)
    python bench/crash_points.py --kill renewal

The points are the calls that can leave a state of their own (see tests/crash/strace_run.py);
`traced` also counts failed calls and writes to the run's own stdout/stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from c8y_emulator.server import TenantEmulator  # noqa: E402
from tests.conftest import PROXY_VARIABLES  # noqa: E402
from tests.crash.campaign import count_calls, crash_campaign  # noqa: E402
from tests.crash.scenarios import SCENARIOS  # noqa: E402


def counts_table(folder: Path, scenarios) -> str:
    rows = []
    for scenario in scenarios:
        with TenantEmulator() as tenant:
            calls = count_calls(scenario, folder / scenario.name, tenant)
        points = Counter(call.syscall for call in calls if call.leaves_a_trace)
        per_call = ", ".join(f"{name} {count}" for name, count in points.most_common())
        rows.append(f"{scenario.name:<27} {sum(points.values()):>6} {len(calls):>7}   {per_call}")
    return "\n".join([f"{'scenario':<27} {'points':>6} {'traced':>7}   by system call", *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kill", action="store_true", help="run every crash point and report the failing ones")
    names = [s.name for s in SCENARIOS]
    parser.add_argument("scenario", nargs="*", help=f"any of {', '.join(names)} (default: all)")
    args = parser.parse_args()
    if set(args.scenario) - set(names):
        parser.error(f"unknown scenario {sorted(set(args.scenario) - set(names))}; known: {', '.join(names)}")
    for name in PROXY_VARIABLES:  # the emulator is on loopback
        os.environ.pop(name, None)
        os.environ.pop(name.lower(), None)
    scenarios = [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]
    with tempfile.TemporaryDirectory(prefix="crash-points-") as folder:
        print(counts_table(Path(folder), scenarios))
        for scenario in scenarios if args.kill else ():
            print()
            print(crash_campaign(scenario, Path(folder) / f"{scenario.name}-kills").summary())


if __name__ == "__main__":
    main()
