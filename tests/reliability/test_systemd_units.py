"""The shipped systemd units, checked by systemd itself (Debian's `systemd-analyze`, run offline)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from reconciler.basics.errors import ExitCode
from tests.conftest import ROOT

UNITS = ROOT / "examples" / "systemd"
SERVICE = "tedge-cert-reconcile.service"
TIMER = "tedge-cert-reconcile.timer"
SHIPPED_BINARY = "/usr/local/bin/reconcile"


def _analyze() -> str:
    tool = shutil.which("systemd-analyze")
    assert tool, "systemd-analyze is missing: tests/run.sh installs Debian's systemd package"
    return tool


def _units_here(folder: Path, extra: str = "") -> Path:
    """The shipped units in `folder`, ExecStart pointed at the console script installed beside this
    Python (verify insists that the binary exists); everything else exactly as shipped."""
    text = (UNITS / SERVICE).read_text()
    installed = Path(sys.executable).with_name("reconcile")
    assert installed.exists(), installed
    assert text.count(f"\nExecStart={SHIPPED_BINARY} ") == 1
    (folder / SERVICE).write_text(text.replace(f"\nExecStart={SHIPPED_BINARY} ", f"\nExecStart={installed} ") + extra)
    shutil.copy(UNITS / TIMER, folder / TIMER)
    return folder


def _verify(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([_analyze(), "verify", SERVICE, TIMER], cwd=folder, capture_output=True, text=True,
                          timeout=60)


def test_the_units_verify_without_a_single_warning(tmp_path):
    result = _verify(_units_here(tmp_path))
    assert result.returncode == 0
    assert result.stdout + result.stderr == ""


def test_verify_speaks_up_about_a_mistake(tmp_path):
    """The check above can fail: a misspelt setting is reported (while verify still exits 0)."""
    result = _verify(_units_here(tmp_path, extra="ProtectSystm=strict\n"))
    assert "Unknown key 'ProtectSystm'" in result.stdout + result.stderr


def _security(folder: Path) -> str:
    result = subprocess.run([_analyze(), "security", "--offline=true", "--no-pager", SERVICE], cwd=folder,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_service_is_hardened(tmp_path):
    report = _security(_units_here(tmp_path))
    exposure = float(re.search(r"Overall exposure level for \S+: (\d+\.\d+)", report).group(1))
    assert exposure <= 2.5, report  # systemd's scale: 0 locked down, 10 unprotected
    passed = {line.split()[1] for line in report.splitlines() if line.startswith("✓")}
    for setting in ("ProtectSystem=", "ProtectHome=", "PrivateTmp=", "NoNewPrivileges=", "PrivateDevices=",
                    "ProtectKernelTunables=", "ProtectKernelModules=", "ProtectControlGroups=", "LockPersonality=",
                    "MemoryDenyWriteExecute=", "RestrictAddressFamilies=~AF_PACKET", "CapabilityBoundingSet=~CAP_SYS_ADMIN",
                    "CapabilityBoundingSet=~CAP_SET(UID|GID|PCAP)", "CapabilityBoundingSet=~CAP_NET_ADMIN"):
        assert setting in passed, setting


def _settings(name: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            values.setdefault(key, []).append(value)
    return values


def test_only_the_certificate_directory_and_tedge_config_are_writable():
    service = _settings(SERVICE)
    assert service["ProtectSystem"] == ["strict"]
    assert service["ReadWritePaths"] == ["/etc/tedge/device-certs", "/etc/tedge", "-/var/lib/prometheus/node-exporter"]


def test_only_a_held_lock_and_a_clean_stop_count_as_success():
    accepted = {int(code) for code in " ".join(_settings(SERVICE)["SuccessExitStatus"]).split()}
    assert accepted == {ExitCode.LOCKED, ExitCode.INTERRUPTED}


def test_the_timer_spreads_a_fleet_over_the_hour():
    timer = _settings(TIMER)
    assert timer["OnCalendar"] == ["hourly"]
    assert timer["RandomizedDelaySec"] == ["1h"] and timer["FixedRandomDelay"] == ["yes"]


def test_the_service_waits_for_the_clock_to_be_set():
    assert "time-sync.target" in " ".join(_settings(SERVICE)["After"])
