"""The full engine's side of the stamp (reconciler.converged): forget it before anything can
change, and write it again at the end of a run that ended converged with nothing pending.

The inputs are measured twice: before the desired state is read (its files, the environment) and
before the device is observed (every path the observation reads), and once more at the end; a
stamp is written only when nothing moved in between and no inode changed so recently that a
second change could keep its ctime (git's "racy" entries), so that what it records is what the
verdict rested on.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Mapping

from reconciler.basics.atomic_files import write_atomic
from reconciler.basics.errors import ReconcileError
from reconciler.basics.layout import LOCK_NAME, lock_file, staged, state_file
from reconciler.basics.limits import MAX_TEDGE_TOML_BYTES
from reconciler.basics.safe_read import read_regular
from reconciler.basics.timestamps import format_time, parse_time
from reconciler.converged.measures import changed_lately, measure
from reconciler.converged.stamp import OPTIONS, Stamp, absolute, document, stamp_path
from reconciler.desired.model import DesiredState
from reconciler.desired.tedge_toml import CONFIG_DIR_ENV
from reconciler.device.live_pair import switch_link
from reconciler.device.observe import declared_dirs
from reconciler.runs.report import Report, report_dict, summary

log = logging.getLogger("reconciler.stamp")

FILE_MODE = 0o644  # nothing secret in it
# A change closer than this to the measurement could share the ctime of a later one (a file
# system's clock moves by ticks of at most 10 ms; by whole seconds on some, see _margin_ns).
RACY_NS = 20_000_000
OWNER_DATABASES = ("/etc/passwd", "/etc/group")
ENVIRONMENT = (CONFIG_DIR_ENV, "HOME")  # the config dir's default; `~` in the desired state's paths


def _entry(how: str, name, **extra) -> dict:
    return {"measure": how, "name": str(name), **extra}


def spec_inputs(desired_state: Path | None, config_dir: Path) -> list[dict]:
    """What the desired state is made of before it is read: its file (none when given inline),
    tedge.toml, the environment."""
    tedge_toml = config_dir / "tedge.toml"
    files = [tedge_toml] if desired_state is None else [desired_state, tedge_toml]
    return [
        *(_entry(how, path) for path in files for how in ("bytes", "path")),
        *(_entry("env", name) for name in ENVIRONMENT),
    ]


def _named(owner: str | None) -> bool:
    return owner is not None and not owner.isdigit()  # a number needs no lookup in /etc/passwd or /etc/group


def mentions_home(files: list[Path]) -> bool:
    """Whether a desired-state input may name a path by `~user`, which /etc/passwd resolves: any `~` at all
    (a comment too) counts, and so does a file that cannot be read now (the engine will say why)."""
    for path in files:
        try:
            if b"~" in read_regular(path, MAX_TEDGE_TOML_BYTES):  # the larger of the two; never a FIFO
                return True
        except FileNotFoundError:
            continue
        except OSError:
            return True
    return False


def device_inputs(spec: DesiredState, stamp_file: Path, home_lookup: bool = True) -> list[dict]:
    """Every path the observation of `spec` reads, and the one-time password's variable (as set or not).
    `home_lookup`: a path of the desired state may have come from `~user`, so /etc/passwd moved it."""
    paths, cert = spec.paths, spec.paths.cert
    files = [paths.key, cert, staged(paths.key), staged(cert), paths.csr, switch_link(cert),
             spec.enrollment.one_time_password_file, spec.tenant.ca_certificate, spec.tenant.ca_bundle]
    if _named(paths.owner) or _named(paths.group):
        files += [Path(name) for name in OWNER_DATABASES]
    elif home_lookup:
        files.append(Path(OWNER_DATABASES[0]))
    ignore = sorted({state_file(cert).name, LOCK_NAME, stamp_file.name})
    entries = [_entry("path", path) for path in dict.fromkeys(files) if path is not None]
    entries.append(_entry("kind", state_file(cert)))  # rewritten by every run: only its kind counts
    entries += [_entry("directory", folder, ignore=ignore) for folder in declared_dirs(spec)]
    if spec.enrollment.one_time_password_env:
        entries.append(_entry("env_set", spec.enrollment.one_time_password_env))
    return entries


class _Snapshot:
    def __init__(self, entries: list[dict], environ: Mapping[str, str]):
        self.taken_ns = time.time_ns()
        self.environ = environ
        self.entries = [{**entry, "value": measure(entry, environ)} for entry in entries]

    def unchanged(self) -> bool:
        return all(measure(entry, self.environ) == entry["value"] for entry in self.entries)

    def racy(self) -> bool:
        return any(entry["measure"] == "path" and changed_lately(entry["value"], self.taken_ns, _margin_ns(entry["value"]))
                   for entry in self.entries)


def _margin_ns(value) -> int:
    """A ctime in whole seconds is from a file system that keeps no finer time: a change within that second hides."""
    if not isinstance(value, dict):
        return RACY_NS
    ctimes = [identity[4] for identity in (value.get("lstat"), value.get("target")) if isinstance(identity, list)]
    return 1_000_000_000 + RACY_NS if any(ctime % 1_000_000_000 == 0 for ctime in ctimes) else RACY_NS


class StampKeeper:
    """Made by the `reconcile` command before it reads the desired state; the engine calls
    forget() once it holds the lock, look() before it observes, keep() at the end."""

    def __init__(self, desired_state: Path, config_dir: Path, *, options_digest: str | None = None,
                 stamp_file: Path | None = None, environ: Mapping[str, str] | None = None):
        """For a desired-state file; or, with `options_digest` and `stamp_file`, for a desired state
        given inline (`environ`: where the one-time password's variable is looked up, as for the engine)."""
        file = None if options_digest else Path(absolute(desired_state))
        self.source = f"{OPTIONS}{options_digest}" if options_digest else str(file)
        self.config_dir = Path(absolute(config_dir))
        self.path = stamp_file or stamp_path(file)
        self.environ = {**os.environ, **(environ or {})}
        self._spec = _Snapshot(spec_inputs(file, self.config_dir), self.environ)
        # inline options (Ansible) are not at hand here: counted as naming a home
        self._home_lookup = file is None or mentions_home([file, self.config_dir / "tedge.toml"])
        self._device: _Snapshot | None = None

    def forget(self) -> None:
        """Remove the stamp before this run can change anything. Not fsync'd: a stamp that a power cut
        brings back answers only if every input it records is as it was, which is then the truth."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        except OSError as err:
            log.info("cannot remove the stamp %s: %s", self.path, err.strerror)

    def look(self, spec: DesiredState) -> None:
        self._device = _Snapshot(device_inputs(spec, self.path, self._home_lookup), self.environ)

    def keep(self, spec: DesiredState, report: Report, now: datetime) -> None:
        """Write the stamp when `report` is a converged run with nothing pending and no input moved."""
        stamp = self._stamp(spec, report, now)
        if stamp is None:
            return
        text = json.dumps(document(stamp, format_time(now))) + "\n"
        try:
            write_atomic(self.path, text.encode(), FILE_MODE, durable=False)  # lost in a power cut: one full run
        except ReconcileError as err:
            log.info("cannot write the stamp: %s", err.message)

    def _stamp(self, spec: DesiredState, report: Report, now: datetime) -> Stamp | None:
        if self._device is None or not converged_with_nothing_pending(report):
            return None
        certificate = report.before["certificate"]
        deadlines = {"renewal": parse_time(certificate["renew_at"]), **report.deadlines}
        answer_until, not_before = min(deadlines.values()), parse_time(certificate["not_before"])
        if not not_before <= now < answer_until:
            return None
        snapshots = (self._spec, self._device)
        if not all(snapshot.unchanged() for snapshot in snapshots) or any(snapshot.racy() for snapshot in snapshots):
            log.info("no stamp: an input changed during the run, or just before it")
            return None
        return Stamp(
            device_id=spec.device_id, desired_state=self.source, config_dir=str(self.config_dir),
            lock=absolute(lock_file(spec.paths.cert)), history=absolute(state_file(spec.paths.cert)),
            not_before=not_before,
            answer_until=answer_until, deadlines={name: format_time(moment) for name, moment in deadlines.items()},
            not_after=parse_time(certificate["not_after"]), summary=summary(report), report=report_dict(report),
            inputs=self._spec.entries + self._device.entries,
        )


def converged_with_nothing_pending(report: Report) -> bool:
    """A real run that found nothing to do, saw nothing to warn about, and left no failure or backoff behind."""
    history = report.history
    return (
        report.status == "converged" and not report.dry_run and not report.plan.actions and not report.plan.blockers
        and not report.notes and not report.warnings and report.backoff is None and report.failed is None
        and history is not None and history.consecutive_failures == 0 and history.backoff_until is None
        and history.tenant_wait_until is None and bool((report.before.get("certificate") or {}).get("renew_at"))
    )


class NoStamp:
    """For the engine's other callers (the Ansible module, tests): no stamp is kept."""

    def forget(self) -> None:
        pass

    def look(self, spec: DesiredState) -> None:
        pass

    def keep(self, spec: DesiredState, report: Report, now: datetime) -> None:
        pass
