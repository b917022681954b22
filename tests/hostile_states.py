"""Helpers for the table of hostile on-disk states (issue 7): a device wired to the emulator, the
odd inodes put into it, what is compared before and after a run, and the CLI run under a timeout —
inside a private mount namespace when a row needs a read-only or a full filesystem."""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import stat
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

from c8y_emulator.pkcs7_writer import certs_only
from reconciler.x509.facts import load_certificates, load_private_key, public_key_id
from tests.conftest import RECONCILE
from tests.device_files import device_name, write_cert, write_key
from tests.tenant_device import OTP, make_device

TIMEOUT = 30  # seconds; only catches a hang (a FIFO opened for reading, a lock never given up)
SETUP_FAILED = 97  # exit code of the namespace script when it could not build the filesystem


# --- odd inodes and files -----------------------------------------------------------------------------------


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def unix_socket(path: Path) -> Path:
    cwd = os.getcwd()
    os.chdir(path.parent)  # bound by its name alone: a full pytest path exceeds AF_UNIX's 108 bytes
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(path.name)  # the socket file stays after close
    finally:
        os.chdir(cwd)
    return path


def needs_root(what: str) -> None:
    """Fail, never skip: CI runs the suite as root, and a skipped row would hide a hole in the table."""
    if os.geteuid() != 0:
        raise AssertionError(f"this row needs root ({what}); run the suite as root, as CI does")


def char_device(path: Path, major: int = 1, minor: int = 3) -> Path:
    """A private device node (1,3 is what /dev/null is; 1,5 is /dev/zero)."""
    needs_root("mknod")
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    return path


def block_device(path: Path) -> Path:
    needs_root("mknod")
    os.mknod(path, 0o600 | stat.S_IFBLK, os.makedev(7, 250))  # a loop device minor nothing uses
    return path


def directory(path: Path) -> Path:
    path.mkdir()
    return path


def symlink(path: Path, target: Path | str) -> Path:
    path.symlink_to(target)
    return path


def write_bytes(path: Path, data: bytes, mode: int = 0o644) -> Path:
    path.write_bytes(data)
    os.chmod(path, mode)
    return path


# --- before and after -----------------------------------------------------------------------------


def inode(path: Path) -> tuple | None:
    """What is at `path`: kind, mode, owner, mtime and content (bytes, link text or device
    number). Never follows a link and never opens anything but a regular file."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # absent, or a parent is not a directory
        return None
    if stat.S_ISREG(st.st_mode):
        content = path.read_bytes()
    elif stat.S_ISLNK(st.st_mode):
        content = os.readlink(path)
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        content = st.st_rdev
    else:
        content = None
    return stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_mtime_ns, content


def tree(root: Path) -> dict[Path, tuple | None]:
    """inode() of `root` and of everything below it (links are listed, not followed)."""
    found = {root: inode(root)}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            found[Path(folder) / name] = inode(Path(folder) / name)
    return found


def differences(before: dict, after: dict) -> list[str]:
    return [str(path) for path in sorted(set(before) | set(after)) if before.get(path) != after.get(path)]


# --- the device -----------------------------------------------------------------------------------


@dataclass
class Scene:
    """One row's world: a device directory, a bystander directory outside every declared path,
    and the tenant emulator (with the device registered, so that a wrong request would succeed)."""

    root: Path
    tenant: object

    def __post_init__(self):
        self.config_dir = self.root / "device"
        self.certs = self.config_dir / "device-certs"
        self.outside = self.root / "outside"
        self.outside.mkdir()
        self.state()
        self.tenant.register("gw-0001", OTP)

    key = property(lambda self: self.certs / "tedge-private-key.pem")
    cert = property(lambda self: self.certs / "tedge-certificate.pem")
    csr = property(lambda self: self.certs / "tedge.csr")
    backup = property(lambda self: self.certs / "backup")
    lock = property(lambda self: self.certs / ".reconcile.lock")
    key_new = property(lambda self: self.certs / "tedge-private-key.pem.new")
    cert_new = property(lambda self: self.certs / "tedge-certificate.pem.new")
    otp = property(lambda self: self.config_dir / "otp")
    state_file = property(lambda self: self.config_dir / "state.yaml")
    tedge_toml = property(lambda self: self.config_dir / "tedge.toml")

    def state(self, **sections) -> None:
        """(Re)write the desired state: the emulator's tenant, an OTP file, plus `sections`."""
        make_device(self.config_dir, self.tenant, **sections)

    def key_only(self, path: Path | None = None, algorithm: str = "ec-p256"):
        return write_key(path or self.key, algorithm)

    def converged(self, age: timedelta = timedelta(days=1), algorithm: str = "ec-p256", key_path=None, cert_path=None):
        """A key and a certificate the tenant issued for it (`age` old, of 365 days)."""
        key = self.key_only(key_path, algorithm)
        write_cert(cert_path or self.cert, key, age=age, ca=self.tenant.ca)
        return key

    def due(self, **options):
        return self.converged(age=timedelta(days=340), **options)

    def tenant_answer(self, path: Path, key) -> Path:
        """What the tenant sends for `key` (base64 of BER PKCS#7, issued by its CA), written to `path`."""
        cert = self.tenant.ca.issue(key.public_key(), device_name("gw-0001"))
        return write_bytes(path, base64.encodebytes(certs_only([cert])))

    def guarded(self) -> dict:
        """The live key and certificate, as they are now."""
        return {path: inode(path) for path in (self.key, self.cert)}


def cert_belongs_to_key(scene: Scene) -> None:
    """The live certificate (read through links) is for the live key."""
    cert = load_certificates(scene.cert.read_bytes())[0]
    key = load_private_key(scene.key.read_bytes())
    assert public_key_id(cert.public_key()) == public_key_id(key.public_key()), "the certificate is not for the key"


def regular_cert_for_the_key(scene: Scene) -> None:
    """After an enrollment or renewal: a regular file (whatever was there was replaced) for the key."""
    assert stat.S_ISREG(os.lstat(scene.cert).st_mode), f"{scene.cert} is not a regular file"
    cert_belongs_to_key(scene)


# --- the table's rows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Mount:
    """The certificate directory on a small tmpfs of its own, in a private mount namespace:
    read-only, or full but for `free` bytes."""

    read_only: bool = False
    free: int | None = None


@dataclass(frozen=True)
class Row:
    id: str
    setup: Callable[[Scene], Path | None]  # builds the state; returns the path the message must name
    exit: int
    says: str  # a regex: on one stderr line (failures, blocks), anywhere in the output (exit 0 or 2)
    tenant: tuple[str, ...] = ()  # the requests the run may send (path suffixes); () = none at all
    args: tuple[str, ...] = ()
    mount: Mount | None = None
    untouched: bool = False  # the live key and certificate stay as they were, even though the run succeeds
    then: Callable[[Scene], None] | None = None  # what the row is about, in plain asserts
    shows: str | None = None  # a regex stdout must match (the plan of a dry run shows its blocker)


ANY_REQUEST = ("",)  # every path ends with ""
CA_REQUEST = ("/.well-known/est/cacerts",)  # asking for the tenant CA spends nothing
DRY = ("--dry-run",)
ROTATION = {"key": {"rotate_on_renewal": True}}
NOT_REGULAR = r"NotARegularFile|not a regular file"
BLOCKED_PLAN = r"Blocked \[NotARegularFile\]"


# --- running the CLI ------------------------------------------------------------------------------


# $1 the certificate dir (mount point), $2 its contents, $3 where they are copied after the run
NAMESPACE_SCRIPT = f"""
certs=$1 stage=$2 after=$3 free=$4 read_only=$5; shift 5
mount -t tmpfs -o size=1m,mode=0755 hostile "$certs" && cp -a "$stage/." "$certs/" || exit {SETUP_FAILED}
if [ -n "$free" ]; then
    avail=$(( $(stat -f -c %a "$certs") * $(stat -f -c %S "$certs") ))
    head -c $((avail - free)) /dev/zero > "$certs/filler" || exit {SETUP_FAILED}
fi
if [ -n "$read_only" ]; then mount -o remount,ro "$certs" || exit {SETUP_FAILED}; fi
"$@"
code=$?
cp -a "$certs/." "$after/" || exit {SETUP_FAILED}
exit $code
"""


@dataclass
class Run:
    code: int | None  # None: killed after TIMEOUT seconds
    out: str
    err: str


def _in_namespace(scene: Scene, mount: Mount, command: list[str]) -> tuple[list[str], Callable[[], None]]:
    """The command wrapped to run with the certificate directory on its own tmpfs, and what puts
    the directory's final contents back in place afterwards (the tmpfs vanishes with the namespace)."""
    needs_root("unshare -m, mount")
    stage, after = scene.root / "certs-before", scene.root / "certs-after"
    scene.certs.rename(stage)
    scene.certs.mkdir()
    after.mkdir()
    free = "" if mount.free is None else str(mount.free)
    wrapped = ["unshare", "-m", "sh", "-c", NAMESPACE_SCRIPT, "hostile",
               str(scene.certs), str(stage), str(after), free, "1" if mount.read_only else "", *command]

    def put_back():
        scene.certs.rmdir()
        after.rename(scene.certs)
        shutil.rmtree(stage)

    return wrapped, put_back


def run_cli(scene: Scene, args: tuple[str, ...] = (), mount: Mount | None = None) -> Run:
    """`reconcile -f STATE --config-dir DIR ARGS` in its own process group, killed after TIMEOUT."""
    command = [*RECONCILE, "-f", str(scene.state_file), "--config-dir", str(scene.config_dir), *args]
    put_back = None
    if mount is not None:
        command, put_back = _in_namespace(scene, mount, command)
    env = {k: v for k, v in os.environ.items() if k != "TEDGE_CONFIG_DIR"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               text=True, env=env, start_new_session=True)
    try:
        out, err = process.communicate(timeout=TIMEOUT)
        code = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the group we started: the CLI and, in a namespace, its shell
        out, err = process.communicate()
        code = None
    if code == SETUP_FAILED:
        raise AssertionError(f"the namespace could not be set up: {err}")
    if put_back:
        put_back()
    return Run(code, out, err)
