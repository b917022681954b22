"""The crash-point harness itself: it must see what it is there to see, or the crash tests could pass
for nothing. Fast: no strace, no tenant."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from reconciler.device.backup import CERT_FILE
from tests.crash.campaign import CampaignResult, PointOutcome
from tests.crash.invariants import (
    SPENT_PASSWORD,
    backup_problems,
    leftover_problems,
    live_pair_problems,
    lost_answer_problems,
)
from tests.crash.strace_run import parse_trace
from tests.device_files import converged_device, device_name, shared_ca, write_cert, write_key
from tests.tenant_device import Device

LOG = """\
4242  mkdir("/d/device-certs", 0755) = -1 EEXIST (File exists)
4242  write(4</d/device-certs/.k.1a2b3c4d.tmp>, ""..., 241) = 241
4242  write(2<pipe:[99]>, ""..., 95) = 95
4242  rename("/d/device-certs/.c.1a2b3c4d.tmp", "/d/device-certs/c") = 0
4242  write(5<TCP:[127.0.0.1:40000->127.0.0.1:5000]>, ""..., 517) = 517
4242  +++ exited with 0 +++
"""


def test_calls_are_numbered_per_system_call_as_strace_counts_them():
    calls = parse_trace(LOG)
    assert [c.label for c in calls] == ["mkdir#1", "write#1", "write#2", "rename#1", "write#3"]
    assert [c.target for c in calls] == ["device-certs", ".k.1a2b3c4d.tmp", "pipe", ".c.1a2b3c4d.tmp → c", "TCP"]


def test_failed_calls_and_writes_to_the_runs_own_pipes_are_not_crash_points():
    assert [c.leaves_a_trace for c in parse_trace(LOG)] == [False, True, False, True, True]


def test_a_second_process_is_refused_rather_than_miscounted():
    with pytest.raises(AssertionError, match="2 processes or threads"):
        parse_trace(LOG + "4243  write(3</x>, \"\"..., 1) = 1\n")


@pytest.fixture
def device(tmp_path) -> Device:
    converged_device(tmp_path)
    return Device(tmp_path, tmp_path / "state.yaml")


def test_a_healthy_pair_has_no_problem(device):
    assert live_pair_problems(device, both_required=True) == []


def test_a_certificate_of_another_key_is_a_mismatch(device):
    write_cert(device.cert, write_key(device.config_dir / "other-key.pem"))
    assert live_pair_problems(device) == ["the live key and certificate do not match"]


def test_a_half_written_certificate_is_seen(device):
    device.cert.write_bytes(device.cert.read_bytes()[:300])
    assert live_pair_problems(device) == ["the live certificate is not a complete PEM file (300 bytes)"]


def test_a_live_name_through_a_symlink_is_read_through_it(device):
    versioned = device.cert.parent / "..v1"
    versioned.mkdir()
    device.cert.rename(versioned / device.cert.name)
    device.cert.symlink_to(versioned / device.cert.name)
    assert live_pair_problems(device, both_required=True) == []


def test_temp_files_and_staged_files_are_leftovers_but_the_lock_is_not(device):
    for name in (".reconcile.lock", ".tedge-certificate.pem.0a1b2c3d.tmp", "tedge-certificate.pem.new"):
        (device.cert.parent / name).write_text("")
    assert leftover_problems(device) == [".tedge-certificate.pem.0a1b2c3d.tmp was left behind",
                                         "tedge-certificate.pem.new was left behind"]


def test_an_empty_backup_folder_or_one_without_its_key_is_incomplete(device, tmp_path):
    backups = device.cert.parent / "backup"
    (backups / "backup-1-empty").mkdir(parents=True)
    rotated = backups / "backup-2-rotated"
    rotated.mkdir()
    write_cert(rotated / CERT_FILE, write_key(tmp_path / "old-key.pem"))
    assert backup_problems(device) == [
        "backup backup-1-empty has no certificate.pem (it holds [])",
        "backup backup-2-rotated cannot be restored: its certificate's key is neither in it nor the live key",
    ]


def test_a_second_certificate_or_a_spent_password_is_a_lost_answer(device):
    issued = [shared_ca().issue(write_key(device.config_dir / f"k{n}.pem").public_key(), device_name(device.device_id))
              for n in range(2)]
    other_device = shared_ca().issue(write_key(device.config_dir / "k9.pem").public_key(), device_name("gw-9999"))
    tenant_saw = lambda *certs: SimpleNamespace(issued=list(certs))  # noqa: E731 - only its log of issued certificates is read
    assert lost_answer_problems(device, tenant_saw(issued[0], other_device), 0) == []
    assert lost_answer_problems(device, tenant_saw(*issued), 0) == [
        "the tenant issued 2 certificates over the killed and the recovery run, not 1"]
    assert lost_answer_problems(device, tenant_saw(issued[0]), SPENT_PASSWORD) == [
        f"the recovery run exited {SPENT_PASSWORD}: the one-time password is spent and its answer is gone"]


TRACED = parse_trace(LOG)


@pytest.mark.parametrize("lost_at", range(len(TRACED)), ids=[c.label for c in TRACED])
def test_a_lost_answer_fails_at_any_point(lost_at):
    # No point is excused, not even the first call after the request went out (write#3 follows TCP
    # here): the answer reaches a mapped, pre-allocated file without a system call.
    outcomes = tuple(PointOutcome(call, (), ("answer lost",) if n == lost_at else ()) for n, call in enumerate(TRACED))
    result = CampaignResult("s", TRACED, outcomes, 0.0)
    assert [o.call.label for o in result.failures] == [TRACED[lost_at].label]
    assert f"s: {TRACED[lost_at].label} ({TRACED[lost_at].target}): answer lost" in result.summary()
