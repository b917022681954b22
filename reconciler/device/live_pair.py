"""Key and certificate made live together, in one rename (the kubelet's atomic-writer layout).

Only a key change needs this; a certificate alone is swapped by renaming `<cert>.new` over it.
When both change, the live names become links through one switch link beside the certificate:

    tedge-private-key.pem                   -> .tedge-certificate.pem.reconcile-live/private-key.pem
    tedge-certificate.pem                   -> .tedge-certificate.pem.reconcile-live/certificate.pem
    .tedge-certificate.pem.reconcile-live   -> .tedge-certificate.pem.reconcile-pair-<UTC time>-<random>/

The new pair is written, complete and fsync'd, into a fresh folder, and one rename of
the switch link makes both files live: a reader sees the old pair or the new one, never a mix.
Turning regular live files into links first copies what is live into a pair folder, so each step
before the switch shows readers exactly the bytes they saw before. A pair folder that no live
name reaches is left-over and swept (`leftovers.py`).

thin-edge's own `tedge reconnect c8y` renames `<cert>.new` over the certificate name, which
replaces that link with a regular file: the key stays reached through the switch link, the pair
still matches, and the next key change turns the certificate name into a link again.
"""

from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from reconciler.basics.atomic_files import ensure_dir, failures_named, fsync_dir, symlink_atomic, write_atomic
from reconciler.basics.limits import MAX_PEM_BYTES
from reconciler.basics.safe_read import read_regular

# Named after the certificate: two certificates managed in one directory never share them.
LIVE_SUFFIX = ".reconcile-live"
PAIR_MARK = ".reconcile-pair-"
KEY_NAME = "private-key.pem"
CERT_NAME = "certificate.pem"


class PairFile(NamedTuple):
    live: Path  # the name readers use: paths.key or paths.cert
    name: str  # its name inside a pair folder
    mode: int


def switch_link(cert: Path) -> Path:
    return cert.parent / f".{cert.name}{LIVE_SUFFIX}"


def pair_prefix(cert: Path) -> str:
    return f".{cert.name}{PAIR_MARK}"


def link_text(live: Path, name: str, cert: Path) -> str:
    """What the live name's link says: relative, so the tree may be moved or mounted elsewhere."""
    return os.path.relpath(switch_link(cert) / name, live.parent)


def routed(live: Path, name: str, cert: Path) -> bool:
    """Whether `live` is our link through the switch link."""
    try:
        return os.readlink(live) == link_text(live, name, cert)
    except OSError:
        return False


def pair_in_use(key: Path, cert: Path) -> str | None:
    """The pair folder name the live names reach through the switch link, if any does."""
    if not (routed(key, KEY_NAME, cert) or routed(cert, CERT_NAME, cert)):
        return None
    try:
        return os.readlink(switch_link(cert))
    except OSError:
        return None


def unused(key: Path, cert: Path) -> list[Path]:
    """Pair folders no live name reaches (and the switch link, when nothing goes through it)."""
    in_use = pair_in_use(key, cert)
    prefix = pair_prefix(cert)
    found = []
    try:
        with os.scandir(cert.parent) as entries:
            for entry in entries:
                if entry.name.startswith(prefix) and entry.name != in_use and entry.is_dir(follow_symlinks=False):
                    found.append(Path(entry.path))
    except OSError:
        pass
    link = switch_link(cert)
    if in_use is None and os.path.islink(link):
        found.append(link)
    return found


def remove(path: Path) -> None:
    """Remove a pair folder (links inside are removed, never followed) or the switch link."""
    if stat.S_ISDIR(os.lstat(path).st_mode):
        import shutil  # only when there is something to remove

        shutil.rmtree(path)  # fd-based on Linux
    else:
        os.unlink(path)


def _read_live(path: Path) -> bytes | None:
    try:
        return read_regular(path, MAX_PEM_BYTES)
    except FileNotFoundError:
        return None
    except OSError as err:
        with failures_named("cannot read", path):
            raise err


def _write_pair(cert: Path, contents: list[tuple[PairFile, bytes | None]], uid, gid, now: datetime) -> str:
    """A new, complete, durable pair folder beside the certificate; returns its name."""
    home = cert.parent
    name = f"{pair_prefix(cert)}{now:%Y%m%dT%H%M%S}Z-{os.urandom(3).hex()}"
    folder = home / name
    ensure_dir(home)
    with failures_named("cannot create the directory", folder):
        folder.mkdir(mode=0o755)
    for file, data in contents:
        if data is not None:
            write_atomic(folder / file.name, data, file.mode, uid, gid)
    fsync_dir(home)
    return name


def switch(key: PairFile, cert: PairFile, key_data: bytes, cert_data: bytes | None, uid, gid, now: datetime) -> str:
    """Make `key_data` and `cert_data` the live pair in one rename; returns the new pair folder.
    No `cert_data` (a rollback to a state without a certificate) leaves the certificate name dangling: absent."""
    link = switch_link(cert.live)
    if not (routed(key.live, KEY_NAME, cert.live) and routed(cert.live, CERT_NAME, cert.live)):
        # Route both names through the switch link, showing readers the same bytes at each step.
        current = _write_pair(cert.live, [(key, _read_live(key.live)), (cert, _read_live(cert.live))], uid, gid, now)
        symlink_atomic(link, current)
        for file in (key, cert):
            if not routed(file.live, file.name, cert.live):
                symlink_atomic(file.live, link_text(file.live, file.name, cert.live))
    new = _write_pair(cert.live, [(key, key_data), (cert, cert_data)], uid, gid, now)
    symlink_atomic(link, new)  # the switch
    return new
