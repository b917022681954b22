"""The service unit sets MemoryDenyWriteExecute=yes. The kernel's own form of that policy
(prctl PR_SET_MDWE, Linux 6.3+) is set here on a real `reconcile` process, which then enrolls and
renews against the tenant emulator: Python, cryptography and the HTTPS stack must cope without
writable-and-executable memory."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from tests.device_files import converged_device
from tests.tenant_device import make_device

# Sets the policy, proves it holds (a W+X mapping is refused), then runs the CLI in this process.
UNDER_MDWE = """
import ctypes, mmap, os, runpy, sys
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
    sys.exit("PR_SET_MDWE failed: " + os.strerror(ctypes.get_errno()))
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    sys.exit("the kernel allowed writable and executable memory")
except PermissionError:
    pass
sys.argv = ["reconcile", *sys.argv[1:]]
runpy.run_module("reconciler", run_name="__main__")
"""


def _run_under_mdwe(device, *args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TEDGE_CONFIG_DIR"}
    return subprocess.run([sys.executable, "-c", UNDER_MDWE, "-f", str(device.state), "--config-dir",
                           str(device.config_dir), *args], capture_output=True, text=True, env=env, timeout=90)


def test_enrollment_runs_without_writable_executable_memory(tmp_path, tenant):
    tenant.register("gw-0001", "one-time-pass-0001")
    device = make_device(tmp_path, tenant)
    result = _run_under_mdwe(device)
    assert result.returncode == 0, result.stderr
    assert "changed; certificate serial" in result.stdout
    assert device.cert.exists()


def test_renewal_over_mtls_runs_without_writable_executable_memory(tmp_path, tenant):
    _, cert_path = converged_device(tmp_path, age=timedelta(days=340), ca=tenant.ca)
    before = cert_path.read_bytes()
    device = make_device(tmp_path, tenant)
    result = _run_under_mdwe(device)
    assert result.returncode == 0, result.stderr
    assert cert_path.read_bytes() != before
    assert tenant.requests_to("simplereenroll")
