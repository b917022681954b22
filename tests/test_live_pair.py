"""Key and certificate switch together: the on-disk layout, thin-edge's own swaps, rollback, sweeping."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from reconciler.basics.layout import list_backups
from reconciler.desired.resolve import resolve
from reconciler.device.backup import KEY_FILE
from reconciler.device.live_pair import CERT_NAME, KEY_NAME, pair_in_use, pair_prefix, switch_link
from reconciler.planning.backends import Backends
from reconciler.runs.engine import reconcile
from reconciler.x509.facts import load_certificates, load_private_key, public_key_id
from tests.device_files import converged_device, write_cert
from tests.local_authority import LocalAuthority
from tests.resolved_spec import resolved_spec


def _run(spec, authority=None):
    return reconcile(spec, dry_run=False, backends=Backends(authority=authority or LocalAuthority()), lock_timeout=2)


def _matching(key_path: Path, cert_path: Path) -> bool:
    cert = load_certificates(cert_path.read_bytes())[0]
    return public_key_id(cert.public_key()) == public_key_id(load_private_key(key_path.read_bytes()).public_key())


def _pairs(cert: Path) -> list[str]:
    return sorted(p.name for p in cert.parent.iterdir() if p.name.startswith(pair_prefix(cert)))


def test_rotation_routes_both_names_through_one_switch_link(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=340))
    spec = resolved_spec(device_dir, key={"rotate_on_renewal": True})
    assert _run(spec).failed is None
    folder = cert_path.parent
    link = switch_link(cert_path).name
    assert os.readlink(key_path) == f"{link}/{KEY_NAME}" and os.readlink(cert_path) == f"{link}/{CERT_NAME}"
    assert _pairs(cert_path) == [os.readlink(folder / link)] == [pair_in_use(key_path, cert_path)]
    assert _matching(key_path, cert_path)
    assert oct(os.stat(key_path).st_mode & 0o777) == "0o600"
    assert not Path(f"{key_path}.new").exists() and not Path(f"{cert_path}.new").exists()
    assert _run(spec).plan.converged


def test_a_second_rotation_switches_again_and_leaves_one_pair_folder(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=340))
    spec = resolved_spec(device_dir, key={"rotate_on_renewal": True})
    assert _run(spec).failed is None
    first_key = key_path.read_bytes()
    write_cert(cert_path.parent / ".tmp-cert", load_private_key(first_key), age=timedelta(days=340))
    os.replace(cert_path.parent / ".tmp-cert", cert_path)  # due again (replaces the link, as tedge would)
    assert _run(spec).failed is None
    assert key_path.read_bytes() != first_key and _matching(key_path, cert_path)
    assert len(_pairs(cert_path)) == 1
    assert len(list_backups(spec.paths.backup_dir)) == 2


def test_thin_edge_renaming_its_candidate_over_the_link_keeps_a_matching_pair(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=340))
    spec = resolved_spec(device_dir, key={"rotate_on_renewal": True})
    assert _run(spec).failed is None
    # `tedge cert renew` + `tedge reconnect c8y`: a new certificate for the same key, renamed over the name
    candidate = Path(f"{cert_path}.new")
    write_cert(candidate, load_private_key(key_path.read_bytes()), age=timedelta(hours=1))
    os.rename(candidate, cert_path)
    assert not cert_path.is_symlink() and key_path.is_symlink()
    assert _matching(key_path, cert_path)
    plain = resolved_spec(device_dir)  # without rotation the device is converged: nothing to redo
    assert _run(plain).plan.converged
    # and a later key change routes the certificate name through the switch link again
    write_cert(cert_path, load_private_key(key_path.read_bytes()), age=timedelta(days=340))
    assert _run(spec).failed is None
    assert cert_path.is_symlink() and _matching(key_path, cert_path)


def test_algorithm_change_without_a_certificate_backs_up_the_old_key(device_dir):
    from tests.device_files import write_key

    key_path = device_dir / "device-certs" / "tedge-private-key.pem"
    old = write_key(key_path, "rsa-2048")
    spec = resolved_spec(device_dir)
    report = _run(spec)
    assert report.failed is None, report.failed
    (backup,) = list_backups(spec.paths.backup_dir)
    assert load_private_key((backup / KEY_FILE).read_bytes()).private_numbers() == old.private_numbers()
    assert _matching(key_path, spec.paths.cert)


def test_failed_activation_after_a_key_switch_switches_back(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=340))
    before = key_path.read_bytes(), cert_path.read_bytes()
    spec = resolved_spec(device_dir, key={"rotate_on_renewal": True}, activation={"strategy": "command", "command": ["false"], "verify": "none"})
    report = _run(spec)
    assert report.failed is not None
    assert [r.status for r in report.outcome.results][-1] == "rolled-back"
    assert (key_path.read_bytes(), cert_path.read_bytes()) == before
    assert len(_pairs(cert_path)) == 1  # the rolled-back-from pair is gone


def test_an_interrupted_switch_leaves_only_unreferenced_folders_which_the_next_run_sweeps(device_dir):
    key_path, cert_path = converged_device(device_dir, age=timedelta(days=340))
    spec = resolved_spec(device_dir, key={"rotate_on_renewal": True})
    assert _run(spec).failed is None
    stray = cert_path.parent / f"{pair_prefix(cert_path)}20260101T000000Z-abcdef"
    stray.mkdir()
    (stray / KEY_NAME).write_text("half a key")
    report = _run(spec)
    assert report.plan.converged and not stray.exists()
    assert any(str(stray) in note for note in report.notes)
