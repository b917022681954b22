"""A device whose certificate directory is a small partition (a real 64 KiB tmpfs) can enroll:
the space reserved for the tenant's answer is the answer bound (limits.MAX_ANSWER_BYTES), which
real answers respect with a wide margin, and an answer past that bound is refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reconciler.basics.limits import LEGACY_ANSWER_RESERVES, MAX_ANSWER_BYTES
from reconciler.device.answer_store import MAGIC, TRAILER, recover
from tests.hostile_states import needs_root
from tests.tenant_device import OTP, make_device

REAL_ANSWER = Path(__file__).parent / "fixtures" / "c8y" / "simpleenroll-response.b64"


@pytest.fixture
def small_partition(tmp_path: Path):
    """`tmp_path/device-certs` on a tmpfs of 64 KiB, unmounted afterwards."""
    needs_root("mount -t tmpfs")
    certs = tmp_path / "device-certs"
    certs.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "small", str(certs)], check=True)
    try:
        yield certs
    finally:
        subprocess.run(["umount", str(certs)], check=True)


def test_the_bound_leaves_a_wide_margin_over_a_real_answer():
    assert REAL_ANSWER.stat().st_size * 16 < MAX_ANSWER_BYTES


def test_a_device_on_a_64_KiB_partition_enrolls(small_partition, tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    device = make_device(tmp_path, tenant)
    result = device.run()
    assert result.returncode == 0, result.stderr
    assert device.cert.exists() and b"BEGIN CERTIFICATE" in device.cert.read_bytes()
    assert len(tenant.requests_to("simpleenroll")) == 1
    assert not [p for p in small_partition.iterdir() if p.name.endswith(".answer")]


@pytest.mark.parametrize("size, refused", [(MAX_ANSWER_BYTES, False), (MAX_ANSWER_BYTES + 1, True)])
def test_an_answer_past_the_bound_is_refused_for_its_size(small_partition, tmp_path, tenant, size, refused):
    tenant.register("gw-0001", OTP)
    tenant.fault("oversized", size=size)
    device = make_device(tmp_path, tenant, enrollment={"max_wait": "0s"})
    result = device.run()
    assert result.returncode == 6, result.stderr
    assert (f"refusing more than {MAX_ANSWER_BYTES}" in result.stderr) is refused, result.stderr
    assert "Traceback" not in result.stderr and not device.cert.exists()


def test_a_reservation_an_earlier_version_left_is_still_recovered(tmp_path):
    """Earlier versions reserved 256 KiB: an answer a killed run left in such a file is not lost."""
    answer = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    target = tmp_path / "tedge-certificate.pem.new"
    (legacy,) = LEGACY_ANSWER_RESERVES
    reservation = tmp_path / ".tedge-certificate.pem.new.reconcile-0a1b.answer"
    reservation.write_bytes(answer.ljust(legacy, b"\0") + TRAILER.pack(MAGIC, len(answer)))
    note = recover(reservation, target, tmp_path / "backup", None)
    assert "stored the tenant's answer" in note
    assert target.read_bytes() == answer and not reservation.exists()
