"""Rows: the wrong kind of inode where a file or a directory belongs — FIFOs, sockets, devices,
directories, files as directories, an odd lock file, and inputs (desired state, tedge.toml, the
one-time password) that are special, huge or not UTF-8."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable

from tests.hostile_states import (
    BLOCKED_PLAN,
    DRY,
    NOT_REGULAR,
    ROTATION,
    Row,
    Scene,
    block_device,
    char_device,
    directory,
    fifo,
    symlink,
    unix_socket,
    write_bytes,
)

Make = Callable[[Path], Path]


def _at(where: str, make: Make, converged: bool = False) -> Callable[[Scene], Path]:
    """A key (and its certificate when `converged`), then `make` at the path the scene calls
    `where`, in place of what is there (the desired state, the one-time password file)."""

    def setup(scene: Scene) -> Path:
        scene.converged() if converged else scene.key_only()
        path = getattr(scene, where)
        path.unlink(missing_ok=True)
        return make(path)

    return setup


def _rotation_due_and(make: Make) -> Callable[[Scene], Path]:
    def setup(scene: Scene) -> Path:
        scene.state(**ROTATION)
        scene.due()
        return make(scene.key_new)

    return setup


def _algorithm_change_and(make: Make) -> Callable[[Scene], Path]:
    def setup(scene: Scene) -> Path:
        scene.converged(algorithm="ec-p384")  # the desired state asks for ec-p256
        return make(scene.key_new)

    return setup


SPECIAL_FILES = [
    Row("fifo-at-key", lambda scene: fifo(scene.key), 4, NOT_REGULAR),
    Row("character-device-at-key", lambda scene: char_device(scene.key, 1, 5), 4, NOT_REGULAR),  # endless zeros if read
    Row("directory-at-key", lambda scene: directory(scene.key), 4, NOT_REGULAR),
    Row("fifo-at-certificate", _at("cert", fifo), 4, NOT_REGULAR),
    Row("socket-at-certificate", _at("cert", unix_socket), 4, NOT_REGULAR),
    Row("block-device-at-certificate", _at("cert", block_device), 4, NOT_REGULAR),
    Row("directory-at-certificate", _at("cert", directory), 4, NOT_REGULAR),
    Row("fifo-at-cert-new", _at("cert_new", fifo, converged=True), 4, NOT_REGULAR),
    Row("directory-at-cert-new-when-enrolling", _at("cert_new", directory), 4, NOT_REGULAR),
    Row("socket-at-key-new-during-rotation", _rotation_due_and(unix_socket), 4, NOT_REGULAR),
    Row("fifo-at-key-new-during-algorithm-change", _algorithm_change_and(fifo), 4, NOT_REGULAR),
    Row("fifo-at-csr-when-enrolling", _at("csr", fifo), 4, NOT_REGULAR),
    Row("character-device-at-csr-when-enrolling", _at("csr", char_device), 4, NOT_REGULAR),
    Row("fifo-at-certificate-dry-run", _at("cert", fifo), 4, NOT_REGULAR, args=DRY, shows=BLOCKED_PLAN),
    Row("block-device-at-key-new-during-rotation-dry-run", _rotation_due_and(block_device), 4, NOT_REGULAR, args=DRY,
        shows=BLOCKED_PLAN),
]


# --- directories that are not directories ------------------------------------------------------------


def _a_file(path: Path) -> Path:
    return write_bytes(path, b"not a directory\n")


def _certificate_directory_is_a_file(scene: Scene) -> Path:
    scene.certs.rmdir()
    return _a_file(scene.certs)


def _key_parent_is_a_file(scene: Scene) -> Path:
    parent = scene.certs / "keys"
    scene.state(paths={"key": str(parent / "device.key")})
    return _a_file(parent)


def _switch_link_is_a_directory(scene: Scene) -> Path:
    """A key change (ec-p384 → ec-p256, enrolling) goes through the switch link: a directory there
    is found before the one-time password is spent, like any other special file."""
    scene.key_only(algorithm="ec-p384")
    return directory(scene.certs / ".tedge-certificate.pem.reconcile-live")


NOT_A_DIRECTORY = r"(?i)not a directory"

DIRECTORIES = [
    Row("certificate-directory-is-a-file", _certificate_directory_is_a_file, 4, NOT_A_DIRECTORY),
    Row("backup-dir-is-a-file", _at("backup", _a_file, converged=True), 4, NOT_A_DIRECTORY),
    Row("backup-dir-is-a-fifo", _at("backup", fifo, converged=True), 4, NOT_A_DIRECTORY),
    Row("parent-of-the-key-is-a-file", _key_parent_is_a_file, 4, NOT_A_DIRECTORY),
    Row("directory-at-the-switch-link-when-the-key-changes", _switch_link_is_a_directory, 4, r"directory"),
]


# --- the lock file -------------------------------------------------------------------------------------


def _lock_is(make: Callable[[Scene], object]) -> Callable[[Scene], Path]:
    def setup(scene: Scene) -> Path:
        scene.converged()
        make(scene)
        return scene.lock

    return setup


LOCK = [
    Row("lock-is-a-directory", _lock_is(lambda s: directory(s.lock)), 4, r"directory"),
    Row("lock-is-a-fifo", _lock_is(lambda s: fifo(s.lock)), 4, r"FIFO"),
    Row("lock-is-a-link-to-a-bystander-file",
        _lock_is(lambda s: symlink(s.lock, write_bytes(s.outside / "precious", b"keep me\n"))), 4, r"symbolic link"),
    Row("lock-is-a-dangling-link-out", _lock_is(lambda s: symlink(s.lock, s.outside / "created-through-the-link")),
        4, r"symbolic link"),
]


# --- what the run reads first: desired state, tedge.toml, the one-time password, the tenant CA ----------


MIB = 1024 * 1024


def _big(size: int) -> Make:
    """About `size` bytes of comment lines: refused for their size, never parsed."""
    return lambda path: write_bytes(path, (b"# " + b"x" * 77 + b"\n") * (size // 80))


def _utf16(path: Path) -> Path:
    return write_bytes(path, "device_id: gw-0001\n".encode("utf-16"))


def _tenant_ca_is_a_fifo_with_an_answer_staged(scene: Scene) -> Path:
    """tenant.ca_certificate is needed to verify the staged answer of a killed run."""
    ca = fifo(scene.config_dir / "tenant-ca.pem")
    scene.state(tenant={"ca_certificate": str(ca)})
    scene.tenant_answer(scene.cert_new, scene.key_only())
    return ca


INPUTS = [
    Row("desired-state-is-a-fifo", _at("state_file", fifo, converged=True), 3, NOT_REGULAR),
    Row("desired-state-is-a-directory", _at("state_file", directory, converged=True), 3, NOT_REGULAR),
    Row("desired-state-of-10-MiB", _at("state_file", _big(10 * MIB), converged=True), 3, r"bytes, more than"),
    Row("desired-state-in-UTF-16", _at("state_file", _utf16, converged=True), 3, r"not UTF-8"),
    Row("tedge-toml-is-a-fifo", _at("tedge_toml", fifo, converged=True), 3, NOT_REGULAR),
    Row("tedge-toml-of-10-MiB", _at("tedge_toml", _big(10 * MIB), converged=True), 3, r"bytes, more than"),
    Row("one-time-password-file-is-a-fifo", _at("otp", fifo), 4, r"OneTimePasswordMissing|one-time password"),
    Row("one-time-password-file-of-1-MiB", _at("otp", _big(MIB)), 3, r"one-time password"),
    Row("tenant-ca-certificate-is-a-fifo", _tenant_ca_is_a_fifo_with_an_answer_staged, 3, NOT_REGULAR),
]


# --- tedge.toml aims a path at a device node -----------------------------------------------------------


def _tedge_toml_points(setting: str, major: int, minor: int) -> Callable[[Scene], Path]:
    """device.<setting> in tedge.toml at a private device node, in a folder of its own."""

    def setup(scene: Scene) -> Path:
        scene.converged()
        nodes = directory(scene.root / "nodes")
        node = char_device(nodes / "node", major, minor)
        scene.tedge_toml.write_text(f'[device]\n{setting} = "{node}"\n')
        return node

    return setup


def _cert_path_is_the_real_dev_null(scene: Scene) -> Path:
    scene.converged()
    scene.tedge_toml.write_text('[device]\ncert_path = "/dev/null"\n')
    return Path("/dev/null")


def _dev_null_is_intact(scene: Scene) -> None:
    st = os.lstat("/dev/null")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3), "/dev/null is no longer the null device"
    assert not os.path.lexists("/dev/.reconcile.lock"), "a lock file appeared in /dev"


DEVICE_NODES = [
    Row("cert-path-is-a-private-null-device", _tedge_toml_points("cert_path", 1, 3), 4, NOT_REGULAR),
    Row("key-path-is-a-private-zero-device", _tedge_toml_points("key_path", 1, 5), 4, NOT_REGULAR),
    # a dry run: a real one takes its lock beside the certificate, which would be in the host's /dev
    Row("cert-path-is-the-real-dev-null-dry-run", _cert_path_is_the_real_dev_null, 4, NOT_REGULAR, args=DRY,
        then=_dev_null_is_intact, shows=BLOCKED_PLAN),
]

ROWS = SPECIAL_FILES + DIRECTORIES + LOCK + INPUTS + DEVICE_NODES
