"""Run the CLI under strace: once to list its state-changing calls, then once per call to kill it there.

strace counts `when=N` per system call name, not across the traced set, so a crash point is a
(system call, N) pair: `inject=rename:signal=SIGKILL:when=2` kills the process on entry to its
second rename, before the kernel carries it out.
"""

from __future__ import annotations

import os
import re
import signal
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.crash.syscalls import strace_path, traceable

# No .pyc writes: the first run of a fresh checkout would otherwise make more calls than the rest.
QUIET_ENV = {"PYTHONDONTWRITEBYTECODE": "1"}
KILLED = -signal.SIGKILL

# `1234  rename("/a/.x.tmp", "/a/x") = 0`; with -yy a descriptor reads `4</a/x>` or `5<TCP:[…]>`.
_CALL = re.compile(r"^(?P<pid>\d+)\s+(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<result>-?\d+)")
_FD_TARGET = re.compile(r"^\d+<([^>]*)>")
_PATHS = re.compile(r'"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Call:
    """One call of the counting run: the `number`-th `syscall` of the process."""

    syscall: str
    number: int
    target: str  # the file, socket or pipe acted on (basenames), for the report
    failed: bool

    @property
    def label(self) -> str:
        return f"{self.syscall}#{self.number}"

    @property
    def leaves_a_trace(self) -> bool:
        """Whether a kill here can leave a state no other point leaves.

        A call that failed (mkdir of an existing folder, unlink of a missing file) or that wrote to
        the run's own stdout/stderr pipe changes nothing that outlives the process: a kill at it
        leaves what a kill at the next call that does change something leaves.
        """
        if self.syscall == "close":
            return self.target == "TCP" and not self.failed
        return not (self.failed or self.target == "pipe")


def _target(args: str) -> str:
    fd = _FD_TARGET.match(args)
    if fd:
        where = fd.group(1)
        return where.split(":[")[0] if ":[" in where else os.path.basename(where)  # TCP, pipe or a file
    return " → ".join(os.path.basename(p) for p in _PATHS.findall(args)) or "?"


def parse_trace(text: str) -> list[Call]:
    """The calls of a `strace -f -yy -s 0` log, numbered per system call as strace's `when=` counts."""
    pids, seen, calls = set(), Counter(), []
    for line in text.splitlines():
        match = _CALL.match(line)
        if match is None:  # exits, signals, and calls a kill interrupted
            continue
        pids.add(match["pid"])
        seen[match["name"]] += 1
        calls.append(Call(match["name"], seen[match["name"]], _target(match["args"]), match["result"].startswith("-")))
    if len(pids) > 1:
        raise AssertionError(
            f"the CLI made its calls from {len(pids)} processes or threads; the crash points assume one "
            "(strace counts when= per thread, so (call, N) would no longer name one moment)"
        )
    return calls


def counting_wrapper(log: Path) -> tuple[str, ...]:
    return (strace_path(), "-f", "-yy", "-s", "0", "-o", str(log), "-e", f"trace={','.join(traceable())}")


def killing_wrapper(call: Call) -> tuple[str, ...]:
    inject = f"inject={call.syscall}:signal=SIGKILL:when={call.number}"
    # Not --seccomp-bpf: strace 6.1 then skips signal injections (error injections still work).
    return (strace_path(), "-f", "-o", "/dev/null", "-e", f"trace={call.syscall}", "-e", inject)
