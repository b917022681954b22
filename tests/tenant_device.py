"""A device directory wired to the tenant emulator, and the CLI run against it."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.conftest import RECONCILE

OTP = "one-time-pass-0001"


@dataclass
class Device:
    config_dir: Path
    state: Path
    device_id: str = "gw-0001"

    @property
    def key(self) -> Path:
        return self.config_dir / "device-certs" / "tedge-private-key.pem"

    @property
    def cert(self) -> Path:
        return self.config_dir / "device-certs" / "tedge-certificate.pem"

    @property
    def candidate(self) -> Path:
        return Path(f"{self.cert}.new")

    def live(self) -> tuple[bytes | None, bytes | None]:
        return (self.key.read_bytes() if self.key.exists() else None, self.cert.read_bytes() if self.cert.exists() else None)

    def run(self, *args: str, env: dict | None = None, timeout: float = 90, wrapper: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        """The CLI on this device; `wrapper` goes before the interpreter (e.g. strace and its options)."""
        full_env = {k: v for k, v in os.environ.items() if k != "TEDGE_CONFIG_DIR"}
        full_env.update(env or {})
        return subprocess.run([*wrapper, *RECONCILE, "-f", str(self.state), "--config-dir", str(self.config_dir), *args],
                              capture_output=True, text=True, env=full_env, timeout=timeout)


def make_device(config_dir: Path, emulator, otp: str | None = OTP, device_id: str = "gw-0001", **sections) -> Device:
    (config_dir / "device-certs").mkdir(parents=True, exist_ok=True)
    enrollment = {"retry_every": "1s", "max_wait": "3s", **sections.pop("enrollment", {})}
    if otp is not None:
        (config_dir / "otp").write_text(otp + "\n")
        enrollment.setdefault("one_time_password_file", "otp")
    data = {
        "device_id": device_id,
        "tenant": {"url": emulator.url, "ca_bundle": str(emulator.ca_bundle), "timeout": "5s", **sections.pop("tenant", {})},
        "enrollment": enrollment,
        "renewal": {"auth": "device-token", "token_url": emulator.token_url, **sections.pop("renewal", {})},
        "activation": {"strategy": "none", "verify": "none", **sections.pop("activation", {})},
        # no local broker in most tests: the twin tests (test_twin.py) turn it on with their own
        "report": {"twin": "off", **sections.pop("report", {})},
        **sections,
    }
    state = config_dir / "state.yaml"
    state.write_text(yaml.safe_dump(data))
    return Device(config_dir, state, device_id)
