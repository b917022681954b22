"""What the stamp records of each input, measured the same way when it is written and when it is
checked: each measure is a function of the disk or the environment to a JSON value.

- `bytes`: the sha256 of a file's bytes (the desired state, tedge.toml);
- `path`: the lstat identity of a path (device, inode, size, mtime_ns, ctime_ns, mode, uid, gid,
  links) and, for a symbolic link, its text and the identity of what it leads to; or "absent";
- `kind`: only whether a file that changes on every run (the run history) is usable: regular or none;
- `directory`: a declared directory's identity and realpath and the names in it, less the ones
  every run rewrites (the run history, the lock, the stamp), so that a staged `.new`, a backup
  removed or a left-over temp file shows;
- `env` / `env_set`: an environment variable's value, or only whether it is set (a secret's).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from typing import Callable, Mapping

from reconciler.basics.safe_read import FileRefused, read_regular

MAX_DIGESTED_BYTES = 1024 * 1024  # tedge.toml's own bound; the desired state's is lower
ABSENT = "absent"


def _failed(err: OSError) -> str:
    if err.errno == errno.ENOENT:
        return ABSENT
    return f"error:{errno.errorcode.get(err.errno, err.errno)}"


def _identity(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode, st.st_uid, st.st_gid,
            st.st_nlink]


def file_bytes(path: str, _environ=None) -> str:
    try:
        return hashlib.sha256(read_regular(path, MAX_DIGESTED_BYTES)).hexdigest()
    except FileRefused as err:  # a FIFO, a directory, too large
        return f"refused:{err.reason}"
    except OSError as err:
        return _failed(err)


def path_identity(path: str, _environ=None):
    try:
        link = os.lstat(path)
    except OSError as err:
        return _failed(err)
    if not stat.S_ISLNK(link.st_mode):
        return {"lstat": _identity(link)}
    try:
        text = os.readlink(path)
    except OSError as err:
        text = _failed(err)
    try:
        target = _identity(os.stat(path))
    except OSError as err:
        target = _failed(err)
    return {"lstat": _identity(link), "link": text, "target": target}


def file_kind(path: str, _environ=None) -> str:
    """"usable" for a regular file or none (the first run creates it), else what is in the way."""
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        failed = _failed(err)
        return "usable" if failed == ABSENT else failed
    return "usable" if stat.S_ISREG(mode) else f"{stat.S_IFMT(mode):o}"


def directory(path: str, _environ=None, ignore: tuple[str, ...] = ()):
    try:
        followed, link = os.stat(path), os.lstat(path)
        names = sorted(name for name in os.listdir(path) if name not in ignore)
    except OSError as err:
        return _failed(err)
    keep = (stat.S_IFMT(followed.st_mode), followed.st_dev, followed.st_ino, followed.st_mode, followed.st_uid, followed.st_gid)
    return {"stat": list(keep), "lstat": [link.st_dev, link.st_ino, link.st_mode], "real": os.path.realpath(path),
            "names": names}


def env(name: str, environ: Mapping[str, str]):
    return environ.get(name)


def env_set(name: str, environ: Mapping[str, str]) -> bool:
    return bool(environ.get(name, "").strip())  # as the one-time password's source counts it: blank is unset


MEASURES: dict[str, Callable] = {
    "bytes": file_bytes, "path": path_identity, "kind": file_kind, "directory": directory, "env": env,
    "env_set": env_set,
}


def measure(entry: Mapping, environ: Mapping[str, str]):
    """The current value of a stamp entry's input (`entry` names the measure and its subject)."""
    how = MEASURES[entry["measure"]]
    if entry["measure"] == "directory":
        return how(entry["name"], environ, tuple(entry.get("ignore", ())))
    return how(entry["name"], environ)


def changed_lately(value, since_ns: int, margin_ns: int) -> bool:
    """Whether a `path` value's inode changed less than `margin_ns` before `since_ns`: a second
    change within the file system's clock tick would then leave the same ctime (git's racy entry)."""
    if not isinstance(value, dict):
        return False
    for identity in (value.get("lstat"), value.get("target")):
        if isinstance(identity, list) and identity[4] + margin_ns > since_ns:
            return True
    return False
