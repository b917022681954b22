"""Errors as values a user can act on, each bound to a documented exit code."""

from __future__ import annotations

import errno
from enum import IntEnum

from reconciler.basics.safe_read import FileRefused


class ExitCode(IntEnum):
    """The exit codes `reconcile` documents (README, `reconcile --help`)."""

    OK = 0  # converged, whether or not something changed
    ERROR = 1  # an action failed; the live key and certificate are untouched
    CHANGED = 2  # only with --detailed-exitcode: changes applied (or pending with --dry-run)
    BAD_INPUT = 3  # desired state, tedge.toml or command line is invalid
    BLOCKED = 4  # the device needs a person: corrupt key, expired without a one-time password, ...
    LOCKED = 5  # another run holds the lock past --lock-timeout
    TENANT_REFUSED = 6  # the tenant refused for good (bad CSR, feature off, bad answer, TLS failure)
    TIMED_OUT = 7  # the registration did not appear within enrollment.max_wait
    UNREACHABLE = 8  # the tenant, the local broker or proxy could not be reached (within max_wait)
    BACKING_OFF = 9  # the tenant failed earlier runs: no request before the backoff ends (--force)
    INTERRUPTED = 130  # Ctrl-C / SIGTERM; nothing half-written


class ReconcileError(Exception):
    """A failure with a one-line message and the exit code it maps to."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, exit_code: ExitCode | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self)


class BadInput(ReconcileError):
    exit_code = ExitCode.BAD_INPUT


class Locked(ReconcileError):
    exit_code = ExitCode.LOCKED


class Unavailable(ReconcileError):
    """An action whose backend is not available (e.g. a tool that is not installed)."""

    exit_code = ExitCode.ERROR


class TenantRefused(ReconcileError):
    """The tenant answered in a way that retrying cannot fix."""

    exit_code = ExitCode.TENANT_REFUSED


class TimedOut(ReconcileError):
    exit_code = ExitCode.TIMED_OUT


class Unreachable(ReconcileError):
    exit_code = ExitCode.UNREACHABLE


class Blocked(ReconcileError):
    """A state of the device that only a person can change: a read-only or full disk, a directory
    or FIFO where a file belongs, permissions the reconciler lacks."""

    exit_code = ExitCode.BLOCKED


# errno values that no retry can cure: someone must free space, fix a mount or a permission.
_NEEDS_A_PERSON = {"EROFS", "EACCES", "EPERM", "ENOSPC", "EDQUOT", "ENOTDIR", "EISDIR", "ELOOP", "ENXIO", "EMLINK"}


def file_failure(doing: str, path, err: OSError) -> ReconcileError:
    """`<doing> <path>: <reason>` for an OSError, as Blocked when only a person can fix its cause."""
    name = errno.errorcode.get(err.errno or 0, "")
    message = f"{doing} {path}: {err.strerror or err}"
    return Blocked(message) if name in _NEEDS_A_PERSON or isinstance(err, FileRefused) else ReconcileError(message)
