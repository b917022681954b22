"""Carry out a plan, action by action, under the caller's lock.

The tenant's answer is made durable as `<cert>.new` before anything else (answer_store.py), so
every later step works from disk and a killed run is finished by the next one without asking
the tenant again. The live files change only in `promote` — one rename of the certificate, or
one rename of the switch link when key and certificate change together (live_pair.py) — and,
with the tedge strategy, inside `tedge reconnect c8y`. When activation fails after our own swap,
the backup of this run is restored the same way and activation is run once more.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Callable, Mapping

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from reconciler.applying.activation import run_activation
from reconciler.applying.result import ActionResult, ApplyOutcome
from reconciler.basics.atomic_files import create_atomic, failures_named, remove_file, rename_atomic, write_atomic
from reconciler.basics.errors import Blocked, ReconcileError, TenantRefused, file_failure
from reconciler.basics.layout import staged
from reconciler.basics.limits import MAX_PEM_BYTES
from reconciler.basics.safe_read import read_regular
from reconciler.basics.timestamps import human_time
from reconciler.desired.model import DesiredState
from reconciler.desired.secrets import one_time_password_source
from reconciler.device import live_pair
from reconciler.device.answer_store import AnswerStore
from reconciler.device.backup import CERT_FILE, KEY_FILE, back_up, set_aside
from reconciler.device.observe import declared_dirs, inside
from reconciler.planning.backends import Backends
from reconciler.planning.candidate_check import (
    already_due,
    better_than,
    candidate_problem,
    clock_behind,
    short_lifetime_warning,
)
from reconciler.planning.model import Action, Kind, Plan
from reconciler.planning.observation import Ownership
from reconciler.x509.csr import build_csr
from reconciler.x509.facts import certificate_info, certificates_pem, load_certificates, load_private_key, public_key_id
from reconciler.x509.keys import generate_private_key, private_key_pem


def _serial_of(cert: bytes) -> str:
    """The serial of a certificate file's leaf, for a backup folder's name; `unreadable` when none."""
    try:
        return certificate_info(load_certificates(cert)[0]).serial
    except ValueError:
        return "unreadable"


def read_file(path: Path, what: str) -> bytes:
    """A key, certificate or CSR from disk, safely; errors name the file."""
    with failures_named(f"cannot read the {what}", path):
        return read_regular(path, MAX_PEM_BYTES)


class Applier:
    def __init__(
        self,
        spec: DesiredState,
        ownership: Ownership,
        backends: Backends,
        clock: Callable[[], datetime],
        progress: Callable[[ActionResult], None] = lambda result: None,
        environ: Mapping[str, str] | None = None,  # where a password's `_env` is read; default os.environ
    ):
        self.spec = spec
        self.environ = environ
        self.uid, self.gid = ownership.uid, ownership.gid
        self.backends = backends
        self.clock = clock
        self.progress = progress
        self._authority = None
        self.csr_der: bytes | None = None
        self.backup_folder: Path | None = None
        self.warnings: list[str] = []
        self.tenant_ca = None  # the tenant_ca.TrustedCa the last issued certificate was checked against
        self.tenant_shortfall: str | None = None
        self.asked = "staged"  # how the certificate being verified came: enroll, reenroll, or staged earlier
        self.live_certificate = None  # set from the plan by run()
        self.promoted_with_key: bool | None = None  # None: nothing promoted in this run
        self.contacts = 0  # test connections and reconnects: they reach the tenant without the authority

    # --- helpers ------------------------------------------------------------------------------

    @property
    def authority(self):
        if self._authority is None:
            self._authority = self.backends.authority(self.spec)
        return self._authority

    def _read_key(self, path: Path):
        try:
            return load_private_key(read_file(path, "private key"))
        except ValueError as err:
            raise ReconcileError(f"{path}: cannot load the private key: {err}") from None

    def _read_candidate(self, path: Path) -> list[x509.Certificate]:
        try:
            return load_certificates(read_file(path, "staged certificate"))
        except ValueError as err:
            raise TenantRefused(f"{path}: the tenant's answer holds no usable certificate: {err}") from None

    def _csr(self) -> bytes:
        """The CSR written earlier in this run, or the one on disk when a plan starts at enroll."""
        if self.csr_der is None:
            try:
                csr = x509.load_pem_x509_csr(read_file(self.spec.paths.csr, "CSR"))
            except ValueError as err:
                raise ReconcileError(f"{self.spec.paths.csr}: cannot load the CSR: {err}") from None
            self.csr_der = csr.public_bytes(serialization.Encoding.DER)
        return self.csr_der

    def _answer_store(self, target: Path) -> AnswerStore:
        return AnswerStore(target, self.spec.paths.cert_mode, self.uid, self.gid)

    def _staged_summary(self, target: Path) -> str:
        try:
            info = certificate_info(self._read_candidate(target)[0])
        except ReconcileError:
            return f"the answer is stored as {target}"
        return f"stored as {target}: serial {info.serial}, valid until {human_time(info.not_after)}"

    # --- the actions --------------------------------------------------------------------------

    def generate_key(self, action: Action) -> str:
        key = generate_private_key(self.spec.key.algorithm)
        pem = private_key_pem(key)
        mode = self.spec.paths.key_mode
        if action.target == self.spec.paths.key:
            try:
                create_atomic(action.target, pem, mode, self.uid, self.gid)  # never replaces a live key
            except FileExistsError:
                raise ReconcileError(f"{action.target}: appeared while planning; not overwritten") from None
        else:
            write_atomic(action.target, pem, mode, self.uid, self.gid)
        return f"{self.spec.key.algorithm} key written with mode {mode:04o}"

    def write_csr(self, action: Action) -> str:
        key = self._read_key(action.key)
        subject = self.spec.subject
        csr = build_csr(key, self.spec.device_id, subject.organization, subject.organizational_unit)
        write_atomic(action.target, csr.public_bytes(serialization.Encoding.PEM), 0o644, self.uid, self.gid)
        self.csr_der = csr.public_bytes(serialization.Encoding.DER)
        return f"CN={self.spec.device_id}"

    def enroll(self, action: Action) -> str:
        password = one_time_password_source(self.spec).read(self.environ)
        csr = self._csr()
        self.asked = "enroll"
        with self._answer_store(action.target) as store:  # a place for the answer before the password is spent
            self.authority.enroll(csr, password, store)
        return self._staged_summary(action.target)

    def reenroll(self, action: Action) -> str:
        csr = self._csr()
        self.asked = "reenroll"
        with self._answer_store(action.target) as store:
            self.authority.reenroll(csr, store)
        return self._staged_summary(action.target)

    def _problem_of(self, action: Action, now: datetime) -> tuple[str | None, object]:
        """Why the staged answer must not go live (unreadable, another key or CN, the clock, the
        chain), or None; and its facts."""
        try:
            issued = load_certificates(read_file(action.target, "staged certificate"))
            info = certificate_info(issued[0])
        except ValueError as err:
            return f"the answer holds no usable certificate: {err}", None
        key_id = public_key_id(self._read_key(action.key).public_key())
        nothing_better = not better_than(self.live_certificate, info, now)  # the planner's judgement of the live pair
        renew_before = self.spec.validity.renew_before
        problem = candidate_problem(info, key_id, self.spec.device_id, now, renew_before, nothing_better)
        return problem or self._chain_problem(issued), info

    def _chain_problem(self, issued: list[x509.Certificate]) -> str | None:
        """The tenant CA's verdict; an unchecked chain is said once per run, as a warning."""
        problem = self.authority.check_chain(issued)
        trust = getattr(self.authority, "trust", None)
        if trust is not None and trust is not self.tenant_ca:
            self.tenant_ca = trust
            if not trust.verified:
                self.warnings.append(trust.warning)
        return problem

    @property
    def _checked(self) -> str:
        unchecked = self.tenant_ca is not None and not self.tenant_ca.verified
        return "key, CN and clock (the chain is not verified)" if unchecked else "key, CN, clock and tenant CA"

    def verify_candidate(self, action: Action) -> str:
        now = self.clock()
        problem, info = self._problem_of(action, now)
        if problem:
            kept = set_aside(action.target, self.spec.paths.backup_dir, now)  # evidence, not garbage
            raise TenantRefused(f"rejected the issued certificate: {problem} (kept as {kept})")
        behind = clock_behind(info, now)
        if behind:  # the tenant's clock is right, ours is not: keep it staged, promote it when the clock is
            raise Blocked(f"the issued certificate {action.target} {behind}")
        if already_due(info, now, self.spec.validity.renew_before):
            self.warnings.append(short_lifetime_warning(info, self.spec.validity.renew_before))
            self.tenant_shortfall = f"{self.asked}:short-certificate"
            return f"matches the {self._checked}; already due for renewal, stored as the best there is"
        return f"matches the {self._checked}"

    def stage(self, action: Action) -> str:
        """The staged answer in PEM, the form thin-edge and mosquitto read."""
        pem = certificates_pem(self._read_candidate(action.target))
        if read_file(action.target, "staged certificate") != pem:
            write_atomic(action.target, pem, self.spec.paths.cert_mode, self.uid, self.gid)
        return str(action.target)

    def verify_connection(self, action: Action) -> str:
        self.contacts += 1
        self.backends.test_connection(self.spec, action.target, action.key)
        return f"connected to {self.spec.tenant.mqtt}"

    def _read_if_there(self, path: Path, what: str) -> bytes | None:
        return read_file(path, what) if os.path.lexists(path) else None

    def backup(self, action: Action) -> str:
        paths = self.spec.paths
        try:
            cert = self._read_if_there(paths.cert, "certificate")
        except Blocked:  # far too large to be a certificate: moved aside whole, not copied
            moved = set_aside(paths.cert, paths.backup_dir, self.clock())
            return f"{paths.cert} cannot be a certificate; moved to {moved}"
        key = self._read_if_there(paths.key, "private key") if action.with_key else None
        label = "no-certificate" if cert is None else _serial_of(cert)
        self.backup_folder = self._back_up_pair(cert, key, label)
        return str(self.backup_folder)

    def _back_up_pair(self, cert: bytes | None, key: bytes | None, label: str) -> Path:
        paths = self.spec.paths
        files = [(name, data, mode) for name, data, mode in ((CERT_FILE, cert, paths.cert_mode), (KEY_FILE, key, paths.key_mode))
                 if data is not None]
        return back_up(files, paths.backup_dir, self.clock(), label, paths.backup_keep)

    def _switch_pair(self, key_data: bytes, cert_data: bytes | None) -> str:
        paths = self.spec.paths
        return live_pair.switch(
            live_pair.PairFile(paths.key, live_pair.KEY_NAME, paths.key_mode),
            live_pair.PairFile(paths.cert, live_pair.CERT_NAME, paths.cert_mode),
            key_data, cert_data, self.uid, self.gid, self.clock(),
        )

    def _remove_unused_pairs(self) -> None:
        """The previous pair's folder holds a copy of the old key: gone now (the backup keeps one)."""
        for path in live_pair.unused(self.spec.paths.key, self.spec.paths.cert):
            with failures_named("cannot remove", path):
                live_pair.remove(path)

    def promote(self, action: Action) -> str:
        paths = self.spec.paths
        candidate = staged(paths.cert)
        if action.with_key:  # both change: one rename of the switch link makes them live together
            staged_key = staged(paths.key)
            self._switch_pair(read_file(staged_key, "staged private key"), read_file(candidate, "staged certificate"))
            self.promoted_with_key = True
            remove_file(candidate)
            remove_file(staged_key)
            self._remove_unused_pairs()
            return f"{paths.key} and {paths.cert} replaced together"
        rename_atomic(candidate, paths.cert)
        self.promoted_with_key = False
        return f"{paths.cert} replaced"

    def activate(self, action: Action) -> str:
        candidate = staged(self.spec.paths.cert)
        expected = read_file(candidate, "staged certificate") if os.path.lexists(candidate) else None
        self.contacts += 1  # the mapper reconnects to the tenant with the new pair
        run_activation(self.spec)
        if expected is not None and read_file(self.spec.paths.cert, "certificate") != expected:
            raise ReconcileError(f"`{' '.join(self.spec.activation.command)}` succeeded but did not install {candidate}")
        return "done"

    def fix_permissions(self, action: Action) -> str:
        paths = self.spec.paths
        mode = paths.key_mode if action.target == paths.key else paths.cert_mode
        real = Path(os.path.realpath(action.target))
        if real != action.target and not inside(str(real), declared_dirs(self.spec)):
            raise Blocked(f"{action.target} leads to {real}, outside the declared directories; its mode is not changed")
        with failures_named("cannot set the mode and owner of", real):
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                if self.uid is not None or self.gid is not None:
                    os.fchown(fd, -1 if self.uid is None else self.uid, -1 if self.gid is None else self.gid)
                os.fchmod(fd, mode)
            finally:
                os.close(fd)
        return f"mode {mode:04o}"

    def discard_candidate(self, action: Action) -> str:
        return f"moved to {set_aside(action.target, self.spec.paths.backup_dir, self.clock())}"

    # --- the loop -----------------------------------------------------------------------------

    def _keep_unactivated(self) -> Path:
        """The pair that failed to activate, kept as a backup of its own: it was paid for (a one-time
        password, a renewal) and may work once whatever failed is fixed."""
        paths = self.spec.paths
        cert = self._read_if_there(paths.cert, "certificate")
        key = read_file(paths.key, "private key") if self.promoted_with_key else None
        return self._back_up_pair(cert, key, f"{_serial_of(cert or b'')}-not-activated")

    def _roll_back(self, outcome: ApplyOutcome) -> None:
        """Restore this run's backup after a failed activation, then activate the old pair again."""
        paths = self.spec.paths
        kept = self._keep_unactivated()
        saved_cert = self._read_if_there(self.backup_folder / CERT_FILE, "backed-up certificate")
        if self.promoted_with_key:
            saved_key = read_file(self.backup_folder / KEY_FILE, "backed-up private key")
            self._switch_pair(saved_key, saved_cert)
            self._remove_unused_pairs()
            restored = f"{paths.key}, {paths.cert}"
        elif saved_cert is not None:
            write_atomic(paths.cert, saved_cert, paths.cert_mode, self.uid, self.gid)
            restored = str(paths.cert)
        else:
            restored = "nothing (there was no certificate before)"
        detail = f"restored {restored} from {self.backup_folder}; the new one is kept in {kept}"
        if self.spec.activation.strategy != "none":
            try:
                self.contacts += 1
                run_activation(self.spec)
            except ReconcileError as err:
                detail += f"; re-activation failed too: {err}"
        rollback = Action(Kind.ROLLBACK, outcome.results[-1].action.reason, "Rolling back to the previous certificate.", paths.cert)
        result = ActionResult(rollback, "rolled-back", detail)
        outcome.results.append(result)
        self.progress(result)

    def _handlers(self) -> dict[Kind, Callable[[Action], str]]:
        """The method that carries out each kind of action (ROLLBACK is never planned: see _roll_back)."""
        return {
            Kind.GENERATE_KEY: self.generate_key, Kind.WRITE_CSR: self.write_csr, Kind.ENROLL: self.enroll,
            Kind.REENROLL: self.reenroll, Kind.VERIFY_CANDIDATE: self.verify_candidate, Kind.STAGE: self.stage,
            Kind.VERIFY_CONNECTION: self.verify_connection, Kind.BACKUP: self.backup, Kind.PROMOTE: self.promote,
            Kind.ACTIVATE: self.activate, Kind.FIX_PERMISSIONS: self.fix_permissions,
            Kind.DISCARD_CANDIDATE: self.discard_candidate,
        }

    def run(self, plan: Plan) -> ApplyOutcome:
        outcome = ApplyOutcome(warnings=self.warnings)
        self.live_certificate = plan.live_certificate  # nothing live changes before the candidate is judged
        handlers = self._handlers()
        for action in plan.actions:
            try:
                detail = handlers[action.kind](action)
            except ReconcileError as err:
                outcome.error = err
            except OSError as err:  # anything not named on the way: name the action and the path
                outcome.error = file_failure(f"{action.kind.value}:", err.filename or action.target, err)
            if outcome.error is not None:
                result = ActionResult(action, "failed", outcome.error.message)
                outcome.results.append(result)
                self.progress(result)
                # fall back only to a pair that worked: an expired or broken one is no better than the new
                if self.promoted_with_key is not None and self.backup_folder is not None and plan.live_healthy:
                    try:
                        self._roll_back(outcome)
                    except ReconcileError as err:
                        outcome.results.append(ActionResult(action, "failed", f"rollback failed: {err}"))
                self._account(outcome)
                return outcome
            result = ActionResult(action, "done", detail)
            outcome.results.append(result)
            self.progress(result)
        self._account(outcome)
        return outcome

    def _account(self, outcome: ApplyOutcome) -> None:
        """What the backoff needs to know of this run: requests sent, a certificate owed."""
        outcome.tenant_shortfall = self.tenant_shortfall
        asked = getattr(self._authority, "requests", 0) if self._authority is not None else 0
        outcome.requests = asked + self.contacts
        outcome.tenant_ca = self.tenant_ca
