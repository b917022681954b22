"""Enrollment on loopback, in process (no interpreter start): key generation, CSR, HTTPS to the
emulator, verification and atomic store. Median and p95 per key algorithm.

    python bench/enroll_latency.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reconciler.engine import reconcile  # noqa: E402
from reconciler.emulator.server import TenantEmulator  # noqa: E402
from reconciler.resolve import resolve  # noqa: E402
from reconciler.spec import DesiredState  # noqa: E402
from reconciler.tedge_config import load_tedge_config  # noqa: E402


def one_enrollment(tenant: TenantEmulator, algorithm: str, number: int) -> float:
    device_id = f"bench-{algorithm}-{number}"
    tenant.register(device_id, "bench-password-1")
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "otp").write_text("bench-password-1")
        desired = DesiredState.model_validate({
            "device_id": device_id,
            "tenant": {"url": tenant.url, "ca_bundle": str(tenant.ca_bundle)},
            "enrollment": {"one_time_password_file": "otp", "max_wait": "0s"},
            "key": {"algorithm": algorithm},
            "activation": {"strategy": "none", "verify": "none"},
        })
        spec = resolve(desired, load_tedge_config(base), base)
        start = time.perf_counter()
        report = reconcile(spec, dry_run=False)
        elapsed = time.perf_counter() - start
        assert report.failed is None and report.changed, report.failed
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with TenantEmulator() as tenant:
        one_enrollment(tenant, "ec-p256", -1)  # warm up imports and the TLS session
        results = {}
        tracemalloc.start()
        for algorithm in ("ec-p256", "rsa-2048"):
            times = sorted(one_enrollment(tenant, algorithm, n) for n in range(args.runs))
            results[algorithm] = (statistics.median(times), times[max(0, round(len(times) * 0.95) - 1)])
        peak = tracemalloc.get_traced_memory()[1]
    print(f"enrollment on loopback, in process, {args.runs} runs each (emulator in the same process)")
    for algorithm, (median, p95) in results.items():
        print(f"  {algorithm:<9} median {median * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")
    ec, rsa = results["ec-p256"][0], results["rsa-2048"][0]
    print(f"  rsa-2048 / ec-p256 median ratio: {rsa / ec:.2f}x")
    print(f"  Python heap peak during the runs: {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
