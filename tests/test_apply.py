"""Apply on real files: atomic, idempotent, never breaking the live pair (tenant stood in by a local CA)."""

from __future__ import annotations

import os
import stat
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from reconciler.basics.errors import Locked
from reconciler.basics.layout import list_backups, lock_file
from reconciler.basics.lock import exclusive_lock
from reconciler.desired.resolve import resolve
from reconciler.device.backup import CERT_FILE, KEY_FILE
from reconciler.planning.backends import Backends
from reconciler.runs.engine import reconcile
from reconciler.x509.facts import load_certificates, load_private_key, public_key_id
from tests.device_files import converged_device, write_cert, write_key
from tests.local_authority import LocalAuthority
from tests.resolved_spec import resolved_spec


def _run(spec, authority=None, **kwargs):
    backends = Backends(authority=authority or LocalAuthority())
    return reconcile(spec, dry_run=False, backends=backends, lock_timeout=2, **kwargs)


def _kinds(report):
    return [a.kind.value for a in report.plan.actions]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_enrollment_then_idempotent(device_dir):
    spec = resolved_spec(device_dir)
    authority = LocalAuthority()
    first = _run(spec, authority)
    assert first.failed is None, first.failed
    assert _kinds(first) == ["generate_key", "write_csr", "enroll", "verify_candidate", "stage", "promote"]
    assert _mode(spec.paths.key) == 0o600 and _mode(spec.paths.cert) == 0o644
    cert = load_certificates(spec.paths.cert.read_bytes())[0]
    key = load_private_key(spec.paths.key.read_bytes())
    assert public_key_id(cert.public_key()) == public_key_id(key.public_key())
    assert not Path(str(spec.paths.cert) + ".new").exists()

    second = _run(spec, authority)
    assert second.plan.converged and not second.changed and second.exit_code() == 0
    assert authority.calls == ["enroll"]


def test_no_temp_files_are_left_behind(device_dir):
    spec = resolved_spec(device_dir)
    report = _run(spec)
    assert report.failed is None and report.changed, report.failed  # an early failure leaves no .tmp either
    assert spec.paths.key.exists() and spec.paths.cert.exists()
    leftovers = [p.name for p in spec.paths.cert.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_renewal_keeps_the_key_and_backs_up_the_old_certificate(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=340))
    old_key, old_cert = key_path.read_bytes(), cert_path.read_bytes()
    spec = resolved_spec(device_dir)
    authority = LocalAuthority()
    report = _run(spec, authority)
    assert report.failed is None
    assert authority.calls == ["reenroll"]
    assert key_path.read_bytes() == old_key
    assert cert_path.read_bytes() != old_cert
    (backup,) = list_backups(spec.paths.backup_dir)
    assert (backup / CERT_FILE).read_bytes() == old_cert
    assert not (backup / KEY_FILE).exists()
    assert _run(spec, authority).plan.converged


def test_rotation_swaps_key_and_certificate_together(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=340))
    old_key = key_path.read_bytes()
    spec = resolved_spec(device_dir, key={"rotate_on_renewal": True})
    report = _run(spec)
    assert report.failed is None
    assert key_path.read_bytes() != old_key and _mode(key_path) == 0o600
    cert = load_certificates(cert_path.read_bytes())[0]
    assert public_key_id(cert.public_key()) == public_key_id(load_private_key(key_path.read_bytes()).public_key())
    (backup,) = list_backups(spec.paths.backup_dir)
    assert (backup / KEY_FILE).read_bytes() == old_key
    assert not Path(str(key_path) + ".new").exists()


def test_backups_keep_only_the_newest(device_dir):
    key_path, cert_path = converged_device(device_dir)
    key = load_private_key(key_path.read_bytes())
    spec = resolved_spec(device_dir, paths={"backup_keep": 2})
    for _ in range(4):
        write_cert(cert_path, key, age=timedelta(days=340))  # due for renewal again
        assert _run(spec).failed is None
    assert len(list_backups(spec.paths.backup_dir)) == 2


def test_permission_drift_is_fixed_once(device_dir):
    key_path, cert_path = converged_device(device_dir)
    os.chmod(key_path, 0o644)
    spec = resolved_spec(device_dir)
    report = _run(spec)
    assert _kinds(report) == ["fix_permissions"]
    assert _mode(key_path) == 0o600
    assert _run(spec).plan.converged


def test_configured_modes_are_applied(device_dir):
    spec = resolved_spec(device_dir, paths={"key_mode": "0400", "cert_mode": "0444"})
    _run(spec)
    assert (_mode(spec.paths.key), _mode(spec.paths.cert)) == (0o400, 0o444)
    assert _run(spec).plan.converged


def test_rejected_answer_stages_nothing_and_keeps_the_live_pair(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=340))
    before = key_path.read_bytes(), cert_path.read_bytes()
    spec = resolved_spec(device_dir)
    from reconciler.x509.keys import generate_private_key

    report = _run(spec, LocalAuthority(issue_for=generate_private_key("ec-p256")))
    assert report.failed is not None and report.exit_code() == 6
    assert "public key is not the device's key" in report.failed.message
    assert (key_path.read_bytes(), cert_path.read_bytes()) == before
    assert not Path(str(cert_path) + ".new").exists()


def test_failed_activation_rolls_back_to_the_previous_certificate(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=340))
    before = key_path.read_bytes(), cert_path.read_bytes()
    spec = resolved_spec(device_dir, activation={"strategy": "command", "command": ["sh", "-c", "exit 9"], "verify": "none"})
    report = _run(spec)
    assert report.exit_code() == 1
    assert "exit code 9" in report.failed.message
    assert [(r.action.kind.value, r.status) for r in report.outcome.results][-2:] == [
        ("activate", "failed"), ("rollback", "rolled-back")]
    assert (key_path.read_bytes(), cert_path.read_bytes()) == before


def test_activation_command_runs_after_the_swap(device_dir, monkeypatch):
    marker = device_dir / "activated"
    converged_device(device_dir, age=timedelta(days=340))
    spec = resolved_spec(device_dir, activation={"strategy": "command", "command": ["sh", "-c", f"cp tedge-certificate.pem {marker}"], "verify": "none"})
    monkeypatch.chdir(spec.paths.cert.parent)
    assert _run(spec).failed is None
    assert marker.read_bytes() == spec.paths.cert.read_bytes()


def test_invalid_staged_candidate_is_set_aside(device_dir):
    key_path, cert_path = converged_device(device_dir)
    other = write_key(device_dir / "other.pem")
    write_cert(Path(str(cert_path) + ".new"), other)
    spec = resolved_spec(device_dir)
    report = _run(spec)
    assert _kinds(report) == ["discard_candidate"]
    assert not Path(str(cert_path) + ".new").exists()
    assert any(p.name.startswith("rejected-") for p in spec.paths.backup_dir.iterdir())
    assert _run(spec).plan.converged


def test_a_second_run_waits_for_the_lock_then_gives_up(device_dir):
    converged_device(device_dir)
    spec = resolved_spec(device_dir)
    with exclusive_lock(lock_file(spec.paths.cert), 1):
        with pytest.raises(Locked):
            reconcile(spec, dry_run=False, backends=Backends(authority=LocalAuthority()), lock_timeout=0.2)


def test_concurrent_runs_enroll_once(device_dir):
    spec = resolved_spec(device_dir)
    authority = LocalAuthority()
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(_run(spec, authority))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert authority.calls == ["enroll"]
    assert sum(r.changed for r in reports) == 1


def test_unreadable_key_blocks_and_is_untouched(device_dir):
    key_path, cert_path = converged_device(device_dir)
    key_path.write_text("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
    before = key_path.read_bytes(), cert_path.read_bytes()
    report = _run(resolved_spec(device_dir))
    assert report.exit_code() == 4 and report.status == "blocked"
    assert (key_path.read_bytes(), cert_path.read_bytes()) == before


def test_unavailable_tenant_fails_clearly_and_leaves_nothing_live(device_dir):
    spec = resolved_spec(device_dir, )
    report = reconcile(spec, dry_run=False, backends=Backends(), lock_timeout=1)
    assert report.exit_code() == 1
    assert "not available" in report.failed.message
    assert not spec.paths.cert.exists()


def test_owner_and_group_are_applied_to_new_files_and_drift_is_fixed(device_dir):
    # A missing precondition fails, as everywhere in this suite: changing owners needs root (CI is root).
    assert os.geteuid() == 0, "this test changes file owners: run it as root"
    spec = resolved_spec(device_dir, paths={"owner": "1", "group": "2"})
    assert _run(spec).failed is None
    for path in (spec.paths.key, spec.paths.cert):
        assert (path.stat().st_uid, path.stat().st_gid) == (1, 2)
    os.chown(spec.paths.cert, 0, 0)
    report = _run(spec)
    assert _kinds(report) == ["fix_permissions"]
    assert (spec.paths.cert.stat().st_uid, spec.paths.cert.stat().st_gid) == (1, 2)
    assert _run(spec).plan.converged


def test_unknown_owner_blocks_before_anything_is_written(device_dir):
    report = _run(resolved_spec(device_dir, paths={"owner": "no-such-user-here"}))
    assert report.exit_code() == 4
    assert "user 'no-such-user-here' does not exist" in report.plan.blockers[0].message
    assert not (device_dir / "device-certs" / "tedge-private-key.pem").exists()


def test_every_applied_action_is_journaled_beside_the_backups(device_dir):
    import json

    key_path, cert_path = converged_device(device_dir, age=timedelta(days=340))
    spec = resolved_spec(device_dir)
    _run(spec)
    lines = [json.loads(line) for line in (spec.paths.backup_dir / "journal.jsonl").read_text().splitlines()]
    assert [entry["action"] for entry in lines] == ["write_csr", "reenroll", "verify_candidate", "stage", "backup", "promote"]
    assert {entry["reason"] for entry in lines} == {"RenewalDue"} and {entry["status"] for entry in lines} == {"done"}
    assert _mode(spec.paths.backup_dir / "journal.jsonl") == 0o600
    assert "one-time-pass" not in (spec.paths.backup_dir / "journal.jsonl").read_text()
    _run(spec)  # converged: nothing more is written
    assert len((spec.paths.backup_dir / "journal.jsonl").read_text().splitlines()) == len(lines)


def test_an_expired_certificate_is_not_restored_when_activation_of_its_successor_fails(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=400))  # expired: enroll again
    spec = resolved_spec(device_dir, activation={"strategy": "command", "command": ["false"], "verify": "none"})
    report = _run(spec)
    assert report.failed is not None and "activation command" in report.failed.message
    assert "rolled-back" not in [r.status for r in report.outcome.results]  # nothing better to fall back to
    cert = load_certificates(cert_path.read_bytes())[0]
    assert cert.not_valid_after_utc > datetime.now(timezone.utc)  # the new one stays live


def test_a_rolled_back_renewal_keeps_the_certificate_it_paid_for(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=340))
    old = cert_path.read_bytes()
    spec = resolved_spec(device_dir, activation={"strategy": "command", "command": ["false"], "verify": "none"})
    report = _run(spec)
    assert report.outcome.results[-1].status == "rolled-back" and cert_path.read_bytes() == old
    (kept,) = [f for f in list_backups(spec.paths.backup_dir) if f.name.endswith("-not-activated")]
    unactivated = load_certificates((kept / CERT_FILE).read_bytes())[0]
    assert unactivated.public_bytes(serialization.Encoding.PEM) != old


def test_a_device_clock_behind_the_tenant_keeps_the_certificate_staged_and_blocks(device_dir):
    spec = resolved_spec(device_dir)
    authority = LocalAuthority()
    behind = datetime.now(timezone.utc) - timedelta(minutes=10)
    first = _run(spec, authority, clock=lambda: behind)
    assert first.exit_code() == 4 and "check the clock" in first.failed.message
    assert Path(f"{spec.paths.cert}.new").exists() and not spec.paths.cert.exists()
    still_behind = _run(spec, authority, clock=lambda: behind)
    assert still_behind.exit_code() == 4 and [b.reason.value for b in still_behind.plan.blockers] == ["NotYetValid"]
    right = _run(spec, authority)
    assert right.failed is None and right.plan.findings[0] == "CandidatePending"
    assert authority.calls == ["enroll"]  # one request, however long the clock was wrong


def test_every_kind_a_plan_can_hold_has_a_handler():
    from reconciler.applying.applier import Applier
    from reconciler.planning.model import Kind

    handlers = Applier._handlers(object.__new__(Applier))  # bound methods only: no state is read
    assert set(handlers) == set(Kind) - {Kind.ROLLBACK}
