"""How soon after the administrator registers a device does the waiting device hold its certificate?
Target: within one retry_every (+ jitter). The device is the real `reconcile` process.

    python bench/approval_lag.py [--runs 5] [--retry-every 2]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from c8y_emulator.server import TenantEmulator  # noqa: E402

GRACE = 30.0  # seconds past one retry_every before a device that has no certificate is given up on


def one_run(tenant: TenantEmulator, number: int, retry_every: float) -> float:
    device_id = f"lag-{number}"
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "otp").write_text("lag-password-01")
        state = base / "state.yaml"
        state.write_text(yaml.safe_dump({
            "device_id": device_id,
            "tenant": {"url": tenant.url, "ca_bundle": str(tenant.ca_bundle)},
            "enrollment": {"one_time_password_file": "otp", "retry_every": f"{retry_every:g}s", "max_wait": "2m"},
            "activation": {"strategy": "none", "verify": "none"},
            "report": {"twin": "off"},  # no local broker: the figures are the enrollment's
        }))
        cert = base / "device-certs" / "tedge-certificate.pem"
        device = subprocess.Popen([sys.executable, "-m", "reconciler", "-f", str(state), "--config-dir", str(base)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(retry_every * random.uniform(1.0, 2.0))  # registered somewhere between two attempts
        tenant.register(device_id, "lag-password-01")
        registered = time.monotonic()
        deadline = registered + retry_every * 1.1 + GRACE
        while not cert.exists():
            if device.poll() is not None or time.monotonic() > deadline:  # died, or will never get there: say so
                device.kill()
                device.wait()
                raise SystemExit(f"{device_id}: no certificate {time.monotonic() - registered:.1f}s after registration "
                                 f"(device exit code {device.returncode})")
            time.sleep(0.01)
        lag = time.monotonic() - registered
        assert device.wait(timeout=30) == 0
    return lag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--retry-every", type=float, default=2.0)
    args = parser.parse_args()
    with TenantEmulator() as tenant:
        lags = [one_run(tenant, n, args.retry_every) for n in range(args.runs)]
    print(f"registration → certificate on the device, retry_every {args.retry_every:g}s, {args.runs} runs")
    print(f"  lag median {statistics.median(lags):.2f}s   max {max(lags):.2f}s   "
          f"(bound: retry_every × 1.1 + one request = {args.retry_every * 1.1:.2f}s + ε)")
    print(f"  max lag / retry_every: {max(lags) / args.retry_every:.2f}")


if __name__ == "__main__":
    main()
