"""The demo behind examples/demo.sh: every step runs the real `reconcile` command against the
tenant emulator (`python -m c8y_emulator`), over HTTPS on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import requests
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from reconciler.basics.layout import list_backups  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "demo-run"
DEVICE = "demo-gw-0001"
SHORT_LIFETIME = 45  # seconds: so that renewal is due in 30 s instead of 11 months


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def reconcile(*args: str, check_codes=(0,)) -> subprocess.CompletedProcess:
    shown = " ".join(["reconcile", *args]).replace(str(WORK) + "/", "")
    print(f"$ {shown}", flush=True)
    result = subprocess.run([sys.executable, "-m", "reconciler", *args], capture_output=True, text=True)
    for stream in (result.stderr, result.stdout):
        if stream.strip():
            print("  " + stream.rstrip().replace("\n", "\n  "), flush=True)
    print(f"  (exit code {result.returncode})", flush=True)
    if result.returncode not in check_codes:
        raise SystemExit(f"demo: unexpected exit code {result.returncode}")
    return result


def main() -> None:
    # the emulator is on loopback: keep any proxy of the surrounding environment out of the way
    for name in ("NO_PROXY", "no_proxy"):
        os.environ[name] = ",".join(filter(None, [os.environ.get(name), "127.0.0.1", "localhost"]))
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "tedge" / "device-certs").mkdir(parents=True)
    step("Start the tenant emulator (real HTTPS, a real CA named like the tenant's)")
    emulator = subprocess.Popen([sys.executable, "-m", "c8y_emulator", "--dir", str(WORK / "tenant")],
                                stdout=subprocess.PIPE, text=True)
    try:
        tenant = json.loads(emulator.stdout.readline())
        print(f"  tenant at {tenant['url']}, device tokens (mTLS) at {tenant['token_url']}")
        run_demo(tenant)
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    print(f"\nDone. Files are in {WORK}.")


def run_demo(tenant: dict) -> None:
    config_dir, state = WORK / "tedge", WORK / "reconcile.yaml"
    common = ["-f", str(state), "--config-dir", str(config_dir)]

    step("Administrator: register the device with a one-time password (kept in a 0600 file, never printed)")
    reconcile("register", "--tenant", tenant["url"], "--ca-bundle", tenant["ca_bundle"],
              "--credentials-file", tenant["admin_env"], "--device", DEVICE, "--otp-out", str(WORK / "otps.csv"))
    otp = (WORK / "otps.csv").read_text().splitlines()[1].split(",")[1]
    (WORK / "one-time-password").write_text(otp + "\n")
    (WORK / "one-time-password").chmod(0o600)

    state.write_text(yaml.safe_dump({
        "device_id": DEVICE,
        "tenant": {"url": tenant["url"], "ca_bundle": tenant["ca_bundle"], "ca_certificate": tenant["tenant_ca"]},
        "enrollment": {"one_time_password_file": "one-time-password", "retry_every": "2s", "max_wait": "1m"},
        "renewal": {"auth": "device-token", "token_url": tenant["token_url"]},
        "activation": {"strategy": "none", "verify": "none"},
        "report": {"twin": "off"},  # the demo runs no local MQTT broker
    }, sort_keys=False))
    print("  desired state:\n    " + state.read_text().rstrip().replace("\n", "\n    "))

    step("Device: what would change? (dry run: nothing is written, nothing is sent)")
    reconcile(*common, "--dry-run")

    step(f"Device: enroll (the emulator issues {SHORT_LIFETIME}-second certificates for this demo)")
    settings(tenant, SHORT_LIFETIME)
    reconcile(*common)
    key_before = (config_dir / "device-certs" / "tedge-private-key.pem").read_bytes()

    step("Device: run again — converged, nothing to do")
    reconcile(*common, "--detailed-exitcode")

    step("Wait until the certificate is in its renewal window (its last third)")
    settings(tenant, 365 * 86400)
    shown = json.loads(reconcile("show", *common, "--output", "json").stdout)
    renew_at = datetime.fromisoformat(shown["renew_at"].replace("Z", "+00:00"))
    wait = (renew_at - datetime.now(timezone.utc)).total_seconds() + 1
    print(f"  renewal is due at {shown['renew_at']}: waiting {max(wait, 0):.0f} s", flush=True)
    time.sleep(max(wait, 0))  # until the renewal time the tool itself computed, however slow the steps before
    reconcile(*common, "--dry-run")

    step("Device: renew with a device token, keeping the key; the old certificate is backed up")
    reconcile(*common)
    key_after = (config_dir / "device-certs" / "tedge-private-key.pem").read_bytes()
    print(f"  key kept: {key_before == key_after}")
    backup_dir = config_dir / "device-certs" / "backup"
    for backup in list_backups(backup_dir):
        print(f"  backup: {backup.relative_to(WORK)}/{', '.join(p.name for p in backup.iterdir())}")
    print("  journal (last 3 of", len((backup_dir / "journal.jsonl").read_text().splitlines()), "entries):")
    for line in (backup_dir / "journal.jsonl").read_text().splitlines()[-3:]:
        entry = json.loads(line)
        print(f"    {entry['time']} {entry['action']:<10} {entry['reason']:<11} {entry['status']}")
    reconcile("show", *common)


def settings(tenant: dict, lifetime_seconds: int) -> None:
    env = dict(line.split("=", 1) for line in Path(tenant["admin_env"]).read_text().split())
    requests.post(tenant["url"] + "/emulator/settings", json={"lifetime_seconds": lifetime_seconds},
                  auth=(f"{env['C8Y_TENANT']}/{env['C8Y_USER']}", env["C8Y_PASSWORD"]),
                  verify=tenant["ca_bundle"], timeout=10).raise_for_status()


if __name__ == "__main__":
    main()
