"""Rows: links in and out of the declared directories. What a link leads out to is in the
bystander directory, which every row checks is left exactly as it was: permission fixes, writes
and sweeps never follow a link out; a link at a file the run replaces is replaced itself."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable

from reconciler.x509.facts import load_private_key
from tests.device_files import write_cert, write_key
from tests.hostile_states import (
    ANY_REQUEST,
    NOT_REGULAR,
    ROTATION,
    Row,
    Scene,
    cert_belongs_to_key,
    directory,
    fifo,
    regular_cert_for_the_key,
    symlink,
    write_bytes,
)


def _key_links_out(scene: Scene) -> None:
    outside_key = scene.outside / "key.pem"
    scene.converged(key_path=outside_key)
    os.chmod(outside_key, 0o644)  # drifted from 0600: the fix must not follow the link out
    symlink(scene.key, outside_key)


def _key_hard_linked_from_outside(scene: Scene) -> None:
    """A second name outside for the key's inode, mode 0644: chmod of either name changes both."""
    outside_key = scene.outside / "key.pem"
    scene.converged(key_path=outside_key)
    os.chmod(outside_key, 0o644)
    os.link(outside_key, scene.key)


def _key_links_in(scene: Scene) -> None:
    """A link that stays inside the declared directory: following it to fix the mode is fine."""
    scene.converged(key_path=scene.certs / "real-key.pem")
    os.chmod(scene.certs / "real-key.pem", 0o644)
    symlink(scene.key, "real-key.pem")


def _linked_key_mode_fixed(scene: Scene) -> None:
    mode = stat.S_IMODE(os.stat(scene.certs / "real-key.pem").st_mode)
    assert mode == 0o600, f"the key the link leads to has mode {mode:04o}"


def _cert_links_out_with_drifted_mode(scene: Scene) -> None:
    scene.converged(cert_path=scene.outside / "cert.pem")
    os.chmod(scene.outside / "cert.pem", 0o600)
    symlink(scene.cert, scene.outside / "cert.pem")


def _cert_links_out_and_is_due(scene: Scene) -> None:
    scene.due(cert_path=scene.outside / "cert.pem")
    symlink(scene.cert, scene.outside / "cert.pem")


def _cert_renewed(scene: Scene) -> None:
    regular_cert_for_the_key(scene)
    assert scene.cert.read_bytes() != (scene.outside / "cert.pem").read_bytes(), "the certificate was not renewed"


def _dangling_link_out_at(where: str) -> Callable[[Scene], None]:
    """A link at the key or the certificate to a file that does not exist (yet): read as absent."""

    def setup(scene: Scene) -> None:
        if where == "cert":
            scene.key_only()
        symlink(getattr(scene, where), scene.outside / "never-written.pem")

    return setup


def _foreign_certificate(scene: Scene) -> Path:
    """A valid certificate for someone else's key, outside."""
    foreign = scene.outside / "foreign.pem"
    write_cert(foreign, write_key(scene.root / "foreign-key.pem"), ca=scene.tenant.ca)
    return foreign


def _cert_new_links_out(enrolling: bool) -> Callable[[Scene], None]:
    def setup(scene: Scene) -> None:
        scene.key_only() if enrolling else scene.converged()
        symlink(scene.cert_new, _foreign_certificate(scene))

    return setup


def _cert_new_is_gone(scene: Scene) -> None:
    assert not os.path.lexists(scene.cert_new), f"{scene.cert_new} is still there"


def _key_new_links_out_during_rotation(scene: Scene) -> None:
    """A staged key reached through a link out is not a key this tool made: never adopted."""
    scene.state(**ROTATION)
    scene.due()
    write_key(scene.outside / "someone-elses-key.pem")
    symlink(scene.key_new, scene.outside / "someone-elses-key.pem")


def _new_key_is_our_own(scene: Scene) -> None:
    live = load_private_key(scene.key.read_bytes()).private_numbers()
    outside = load_private_key((scene.outside / "someone-elses-key.pem").read_bytes()).private_numbers()
    assert live != outside, "the key a link led out to became the device's key"
    cert_belongs_to_key(scene)


def _csr_links_out(scene: Scene) -> None:
    scene.key_only()
    symlink(scene.csr, write_bytes(scene.outside / "precious.csr", b"not ours\n"))


def _csr_replaced(scene: Scene) -> None:
    assert stat.S_ISREG(os.lstat(scene.csr).st_mode), f"{scene.csr} is still a link"


def _key_links_out_to_a_fifo(scene: Scene) -> Path:
    symlink(scene.key, fifo(scene.outside / "fifo"))
    return scene.key


def _cert_is_a_link_loop(scene: Scene) -> Path:
    scene.key_only()
    return symlink(scene.cert, scene.cert.name)


def _old_backup_links_out(scene: Scene) -> None:
    """A backup folder that is a link to a directory outside, due to be pruned (backup_keep 1)."""
    scene.state(paths={"backup_keep": 1})
    scene.due()
    kept = directory(scene.outside / "kept")
    write_bytes(kept / "tedge-certificate.pem", b"not a backup of ours\n")
    directory(scene.backup)
    symlink(scene.backup / "backup-20000101T000000.000000Z-01", kept)


LINKS = [
    Row("key-links-out-to-a-0644-file", _key_links_out, 0, r"converged"),
    Row("key-hard-linked-from-outside-0644", _key_hard_linked_from_outside, 0, r"converged|changed"),
    Row("key-links-in-with-drifted-mode", _key_links_in, 0, r"changed", then=_linked_key_mode_fixed),
    Row("certificate-links-out-to-a-0600-file", _cert_links_out_with_drifted_mode, 0, r"converged"),
    Row("certificate-links-out-and-is-due", _cert_links_out_and_is_due, 0, r"changed", tenant=ANY_REQUEST,
        then=_cert_renewed),
    Row("certificate-is-a-dangling-link-out", _dangling_link_out_at("cert"), 0, r"changed", tenant=ANY_REQUEST,
        then=regular_cert_for_the_key),
    # a key on a volume not mounted yet: replacing the link would silently orphan that key
    Row("key-is-a-dangling-link-out", _dangling_link_out_at("key"), 4, r"NotARegularFile.*which does not exist"),
    Row("cert-new-links-out-to-a-foreign-certificate", _cert_new_links_out(enrolling=False), 0, r"converged|changed",
        untouched=True, then=_cert_new_is_gone),
    Row("cert-new-links-out-while-enrolling", _cert_new_links_out(enrolling=True), 0, r"changed", tenant=ANY_REQUEST,
        then=regular_cert_for_the_key),
    Row("key-new-links-out-during-rotation", _key_new_links_out_during_rotation, 0, r"changed", tenant=ANY_REQUEST,
        then=_new_key_is_our_own),
    Row("csr-links-out-when-enrolling", _csr_links_out, 0, r"changed", tenant=ANY_REQUEST, then=_csr_replaced),
    Row("key-links-out-to-a-fifo", _key_links_out_to_a_fifo, 4, NOT_REGULAR),
    Row("certificate-is-a-link-loop", _cert_is_a_link_loop, 4, NOT_REGULAR),
    Row("old-backup-links-out-and-is-pruned", _old_backup_links_out, 0, r"changed", tenant=ANY_REQUEST),
]

ROWS = LINKS
