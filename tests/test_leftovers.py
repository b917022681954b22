"""Recovery cleans up what killed runs left, and only that."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from reconciler.basics.layout import list_backups
from reconciler.desired.resolve import resolve
from reconciler.device.leftovers import stale_paths
from reconciler.planning.backends import Backends
from reconciler.runs.engine import reconcile
from reconciler.x509.csr import build_csr
from tests.device_files import converged_device
from tests.local_authority import LocalAuthority
from tests.resolved_spec import resolved_spec


def _run(spec, dry_run=False):
    return reconcile(spec, dry_run=dry_run, backends=Backends(authority=LocalAuthority()), lock_timeout=2)


def test_stale_temp_files_of_ours_are_removed_under_the_lock(device_dir):
    key_path, cert_path = converged_device(device_dir)
    folder = cert_path.parent
    ours = [
        folder / ".tedge-private-key.pem.reconcile-0a1b2c3d.tmp",
        folder / ".tedge-certificate.pem.new.reconcile-00ff00ff.tmp",
        folder / ".tedge.csr.deadbeef.tmp",  # the name earlier versions used
    ]
    ours[1].write_bytes(b"\0" * 4096)  # a reservation for an answer that never came
    ours[2].write_text("csr")
    os.link(key_path, ours[0])  # killed between link() and unlink(): a second name of the live key
    foreign = [folder / ".notes.reconcile-0a1b2c3d.tmp", folder / "tedge-private-key.pem.bak", folder / ".hidden"]
    for path in foreign:
        path.write_text("not ours")
    spec = resolved_spec(device_dir, otp=None)
    assert sorted(stale_paths(spec)) == sorted(ours)
    report = _run(spec)
    assert report.plan.converged and report.exit_code() == 0
    assert not any(p.exists() for p in ours) and all(p.exists() for p in foreign)
    assert key_path.exists() and os.stat(key_path).st_nlink == 1
    assert len(report.notes) == 3


def test_a_dry_run_sweeps_nothing(device_dir):
    _, cert_path = converged_device(device_dir)
    stale = cert_path.parent / ".tedge-certificate.pem.reconcile-0a1b2c3d.tmp"
    stale.write_text("x")
    _run(resolved_spec(device_dir, otp=None), dry_run=True)
    assert stale.exists()


def test_an_unfinished_backup_never_counts_and_is_swept(device_dir):
    _, cert_path = converged_device(device_dir)
    spec = resolved_spec(device_dir, otp=None)
    backup_dir = spec.paths.backup_dir
    unfinished = backup_dir / ".backup-20260101T000000.000000Z-01.0a1b2c3d.tmp"
    unfinished.mkdir(parents=True)
    (unfinished / cert_path.name).write_text("half")
    assert list_backups(backup_dir) == ()
    _run(spec)
    assert not unfinished.exists()


def test_a_staged_copy_identical_to_the_live_file_is_tidied(device_dir):
    key_path, cert_path = converged_device(device_dir)
    Path(f"{cert_path}.new").write_bytes(cert_path.read_bytes())
    Path(f"{key_path}.new").write_bytes(key_path.read_bytes())
    report = _run(resolved_spec(device_dir, otp=None))
    assert report.plan.converged
    assert not Path(f"{cert_path}.new").exists() and not Path(f"{key_path}.new").exists()


def test_a_staged_key_that_differs_from_the_live_one_is_kept(device_dir):
    from tests.device_files import write_key

    key_path, _ = converged_device(device_dir)
    staged_key = Path(f"{key_path}.new")
    write_key(staged_key)
    _run(resolved_spec(device_dir, otp=None))
    assert staged_key.exists()


def _reservation(cert_path: Path, answer: bytes, truncated: bool) -> Path:
    from reconciler.basics.limits import MAX_ANSWER_BYTES
    from reconciler.device.answer_store import MAGIC, TRAILER, reservation_path

    path = reservation_path(Path(f"{cert_path}.new"))
    if truncated:  # killed between truncating and renaming
        path.write_bytes(answer)
    else:  # killed right after the answer reached the mapped file
        path.write_bytes(answer.ljust(MAX_ANSWER_BYTES, b"\0") + TRAILER.pack(MAGIC, len(answer)))
    return path


@pytest.mark.parametrize("truncated", [False, True], ids=["padded with trailer", "truncated"])
def test_an_answer_left_in_a_reservation_is_stored_and_finished_without_asking_again(device_dir, truncated):
    from tests.device_files import write_key

    key_path = device_dir / "device-certs" / "tedge-private-key.pem"
    key = write_key(key_path)
    authority = LocalAuthority()
    csr = build_csr(key, "gw-0001", "Thin Edge", "Device").public_bytes(serialization.Encoding.DER)
    answer = authority._issue(csr)  # what the tenant said before the run was killed
    spec = resolved_spec(device_dir, otp=None)
    reservation = _reservation(spec.paths.cert, answer, truncated)
    report = reconcile(spec, dry_run=False, backends=Backends(authority=authority), lock_timeout=2)
    assert report.failed is None, report.failed
    assert authority.calls == []  # nothing asked of the tenant
    assert not reservation.exists() and spec.paths.cert.exists()
    assert report.plan.findings[0] == "CandidatePending"


def test_an_empty_reservation_is_removed(device_dir):
    _, cert_path = converged_device(device_dir)
    reservation = _reservation(cert_path, b"", truncated=False)
    report = _run(resolved_spec(device_dir, otp=None))
    assert report.plan.converged and not reservation.exists()


def test_temp_files_of_other_tools_in_a_shared_backup_directory_are_left_alone(device_dir):
    converged_device(device_dir)
    spec = resolved_spec(device_dir, otp=None)
    spec.paths.backup_dir.mkdir(parents=True, exist_ok=True)
    foreign = spec.paths.backup_dir / ".other-tool.0badcafe.tmp"
    ours = spec.paths.backup_dir / ".rejected-20260101T000000.000000Z-x.pem.reconcile-0badcafe.tmp"
    foreign.write_text("not ours")
    ours.write_text("ours")
    _run(spec)
    assert foreign.exists() and not ours.exists()


def test_a_link_at_a_reservation_name_is_removed_never_followed(device_dir, tmp_path_factory):
    from reconciler.device.answer_store import reservation_path

    _, cert_path = converged_device(device_dir)
    secret = tmp_path_factory.mktemp("outside") / "secret.txt"
    secret.write_text("not an answer")
    link = reservation_path(Path(f"{cert_path}.new"))
    link.symlink_to(secret)
    report = _run(resolved_spec(device_dir, otp=None))
    assert report.plan.converged and not os.path.lexists(link) and secret.read_text() == "not an answer"
    assert not list(resolved_spec(device_dir, otp=None).paths.backup_dir.glob("rejected-*"))  # nothing read through it


def test_a_directory_where_the_run_history_belongs_blocks_rather_than_forget_a_backoff(device_dir):
    from reconciler.basics.layout import state_file

    _, cert_path = converged_device(device_dir)
    state_file(cert_path).mkdir()
    report = _run(resolved_spec(device_dir, otp=None))
    assert report.exit_code() == 4 and [b.reason.value for b in report.plan.blockers] == ["NotARegularFile"]
