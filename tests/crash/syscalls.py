"""The system calls at which a killed reconcile can leave a different device (or tenant) behind.

Not in the set, on purpose:
- open/openat/creat: a kill right before an openat(O_CREAT) leaves what a kill right after the
  previous call in the set leaves; a kill right after it (a new, empty file) leaves what a kill
  right before the next call in the set (the fchmod or write into that file) leaves.
- reads, stats, flock, and close of anything but a socket: nothing of them outlives the process
  (a flock dies with it). The close of a connection to the tenant is a point: the tenant sees the
  connection end, and the answer it sent must already be safe then.
- sendto/sendmsg: Python's TLS writes to its socket with write(), which is in the set, so every
  request the tenant can see is a point of its own.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess

STATE_CHANGING = (
    "write", "pwrite64", "writev", "pwritev", "pwritev2",
    "sendfile", "copy_file_range",  # shutil.copyfile copies with these, not with write
    "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
    "unlink", "unlinkat", "mkdir", "mkdirat", "rmdir",
    "fsync", "fdatasync",
    "fchmod", "fchmodat", "fchmodat2", "chmod", "fchown", "fchownat", "chown", "lchown",
    "ftruncate", "truncate", "fallocate",
    "close",  # a point only for sockets (strace_run.Call.leaves_a_trace)
)


def strace_path() -> str:
    path = shutil.which("strace") or "/usr/bin/strace"
    if not os.path.exists(path):
        raise RuntimeError("strace is not installed: apt-get install strace (tests/run.sh does this)")
    return path


@functools.cache
def traceable() -> tuple[str, ...]:
    """STATE_CHANGING less the names this strace and architecture do not know (e.g. fchmodat2 on
    strace 6.1): strace refuses a whole filter for one unknown name."""
    names = list(STATE_CHANGING)
    while True:
        probe = subprocess.run([strace_path(), "-o", "/dev/null", "-e", f"trace={','.join(names)}", "true"],
                               capture_output=True, text=True)
        unknown = re.search(r"invalid system call '(\w+)'", probe.stderr)
        if probe.returncode == 0 or unknown is None:
            if probe.returncode != 0:
                raise RuntimeError(f"strace cannot run here: {probe.stderr.strip()}")
            return tuple(names)
        names.remove(unknown.group(1))
