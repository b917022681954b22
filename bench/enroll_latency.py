"""Enrollment on loopback: key generation, CSR, HTTPS to the emulator, verification and atomic
store. The emulator runs in its own process (`python -m c8y_emulator`), so neither its CPU
nor its heap is counted as the client's.

- time: in process (no interpreter start), tracemalloc off; median and p95 per key algorithm;
- memory, measured apart from the timing: the client's Python heap peak per enrollment
  (tracemalloc, in process), and the peak RSS of a whole `python -m reconciler` enrollment.

    python bench/enroll_latency.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import run_once  # noqa: E402
from reconciler.c8y.admin import AdminClient, load_admin_credentials  # noqa: E402
from reconciler.c8y.registration import DeviceRegistration, register_devices  # noqa: E402
from reconciler.desired.load import load_desired_state  # noqa: E402
from reconciler.desired.resolve import resolve  # noqa: E402
from reconciler.desired.tedge_toml import load_tedge_config  # noqa: E402
from reconciler.runs.engine import reconcile  # noqa: E402

PASSWORD = "bench-password-1"
ALGORITHMS = ("ec-p256", "rsa-2048")


@contextmanager
def emulator_process(folder: Path):
    """The emulator in its own process; yields what it printed (url, ca_bundle, admin_env)."""
    process = subprocess.Popen([sys.executable, "-m", "c8y_emulator", "--dir", str(folder)],
                               stdout=subprocess.PIPE, text=True)
    try:
        yield json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def register(tenant: dict, device_ids: list[str]) -> None:
    admin = AdminClient(tenant["url"], load_admin_credentials(Path(tenant["admin_env"])), Path(tenant["ca_bundle"]))
    report = register_devices(admin, [DeviceRegistration(device_id, PASSWORD) for device_id in device_ids])
    assert report.ok, report


def device_state(tenant: dict, folder: Path, device_id: str, algorithm: str) -> Path:
    (folder / "otp").write_text(PASSWORD)
    state = folder / "state.yaml"
    state.write_text(yaml.safe_dump({
        "device_id": device_id,
        "tenant": {"url": tenant["url"], "ca_bundle": tenant["ca_bundle"]},
        "enrollment": {"one_time_password_file": "otp", "max_wait": "0s"},
        "key": {"algorithm": algorithm},
        "activation": {"strategy": "none", "verify": "none"},
        "report": {"twin": "off"},  # no local broker: the figures are the enrollment's
    }))
    return state


def one_enrollment(tenant: dict, device_id: str, algorithm: str, traced: bool = False) -> float:
    """Seconds of one in-process enrollment; with `traced`, the Python heap peak in bytes instead."""
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        spec = resolve(load_desired_state(device_state(tenant, base, device_id, algorithm)), load_tedge_config(base), base)
        if traced:
            tracemalloc.start()
        start = time.perf_counter()
        report = reconcile(spec, dry_run=False)
        elapsed = time.perf_counter() - start
        if traced:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        assert report.failed is None and report.changed, report.failed
    return peak if traced else elapsed


def process_peak_rss(tenant: dict, device_id: str, algorithm: str) -> float:
    """Peak RSS (MiB) of a whole `python -m reconciler` enrollment, started by a small launcher."""
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        state = device_state(tenant, base, device_id, algorithm)
        _, rss_kib, code = run_once([sys.executable, "-m", "reconciler", "-f", str(state), "--config-dir", str(base)])
        assert code == 0, f"{device_id}: exit {code}"
    return rss_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--memory-runs", type=int, default=3, help="enrollments per algorithm for the memory figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as emulator_dir, emulator_process(Path(emulator_dir)) as tenant:
        ids = {(kind, algorithm, n): f"bench-{kind}-{algorithm}-{n}"
               for algorithm in ALGORITHMS for kind, count in (("time", args.runs), ("heap", args.memory_runs),
                                                               ("rss", args.memory_runs)) for n in range(count)}
        register(tenant, [*ids.values(), "bench-warm-up"])
        one_enrollment(tenant, "bench-warm-up", "ec-p256")  # imports and the first TLS handshake, not timed
        times, heaps, rss = {}, {}, {}
        for algorithm in ALGORITHMS:
            samples = sorted(one_enrollment(tenant, ids["time", algorithm, n], algorithm) for n in range(args.runs))
            times[algorithm] = (statistics.median(samples), samples[max(0, round(len(samples) * 0.95) - 1)])
        for algorithm in ALGORITHMS:
            heaps[algorithm] = max(one_enrollment(tenant, ids["heap", algorithm, n], algorithm, traced=True)
                                   for n in range(args.memory_runs))
            rss[algorithm] = max(process_peak_rss(tenant, ids["rss", algorithm, n], algorithm) for n in range(args.memory_runs))
    print(f"enrollment on loopback, emulator in its own process; {args.runs} timed runs each (tracemalloc off)")
    for algorithm, (median, p95) in times.items():
        print(f"  {algorithm:<9} median {median * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")
    ec, rsa = times["ec-p256"][0], times["rsa-2048"][0]
    print(f"  rsa-2048 / ec-p256 median ratio: {rsa / ec:.2f}x")
    print(f"memory, measured apart ({args.memory_runs} enrollments each, the client only)")
    for algorithm in ALGORITHMS:
        print(f"  {algorithm:<9} Python heap peak per enrollment (after imports) {heaps[algorithm] / 2**20:5.2f} MiB   "
              f"peak RSS of `python -m reconciler` {rss[algorithm]:5.1f} MiB")


if __name__ == "__main__":
    main()
