"""Carry out a plan, action by action, under the caller's lock.

The live key and certificate change only in `promote` (atomic renames) and, with the tedge
strategy, inside `tedge reconnect c8y`. When activation fails after our own swap, the backup of
this run is restored and activation is run once more.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Callable, Mapping

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from reconciler.activation import run_activation
from reconciler.apply_result import ActionResult, ApplyOutcome
from reconciler.atomic_files import create_atomic, rename_atomic, write_atomic
from reconciler.backends import Backends
from reconciler.backup import back_up, set_aside
from reconciler.candidate_check import candidate_problem
from reconciler.csr import build_csr
from reconciler.errors import ReconcileError, TenantRefused
from reconciler.keygen import generate_private_key, private_key_pem
from reconciler.layout import staged
from reconciler.observation import Ownership
from reconciler.plan_model import Action, Kind, Plan
from reconciler.secret_source import one_time_password_source
from reconciler.spec import DesiredState
from reconciler.x509_facts import (
    certificate_info,
    certificates_pem,
    load_certificates_pem,
    load_private_key_pem,
    public_key_id,
)


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
        self.issued: list = []
        self.backup_folder: Path | None = None
        self.promoted_with_key: bool | None = None  # None: nothing promoted in this run

    # --- helpers ------------------------------------------------------------------------------

    @property
    def authority(self):
        if self._authority is None:
            self._authority = self.backends.authority(self.spec)
        return self._authority

    def _read_key(self, path: Path):
        try:
            return load_private_key_pem(path.read_bytes())
        except (OSError, ValueError, TypeError) as err:
            raise ReconcileError(f"{path}: cannot load the private key: {err}") from None

    def _csr(self) -> bytes:
        """The CSR written earlier in this run, or the one on disk when a plan starts at enroll."""
        if self.csr_der is None:
            try:
                csr = x509.load_pem_x509_csr(self.spec.paths.csr.read_bytes())
            except (OSError, ValueError) as err:
                raise ReconcileError(f"{self.spec.paths.csr}: cannot load the CSR: {err}") from None
            self.csr_der = csr.public_bytes(serialization.Encoding.DER)
        return self.csr_der

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
        self.issued = self.authority.enroll(self._csr(), password)
        return self._issued_summary()

    def reenroll(self, action: Action) -> str:
        self.issued = self.authority.reenroll(self._csr())
        return self._issued_summary()

    def _issued_summary(self) -> str:
        info = certificate_info(self.issued[0])
        return f"serial {info.serial}, valid until {info.not_after:%Y-%m-%d %H:%M:%S}Z"

    def verify_candidate(self, action: Action) -> str:
        if not self.issued:
            raise TenantRefused("the tenant returned no certificate")
        info = certificate_info(self.issued[0])
        key_id = public_key_id(self._read_key(action.key).public_key())
        problem = candidate_problem(
            info, key_id, self.spec.device_id, self.clock(), self.spec.validity.renew_before
        ) or self.authority.check_chain(self.issued)
        if problem:
            raise TenantRefused(f"rejected the issued certificate: {problem}")
        return "matches the key, CN and clock"

    def stage(self, action: Action) -> str:
        write_atomic(action.target, certificates_pem(self.issued), self.spec.paths.cert_mode, self.uid, self.gid)
        return str(action.target)

    def verify_connection(self, action: Action) -> str:
        self.backends.test_connection(self.spec, action.target, action.key)
        return f"connected to {self.spec.tenant.mqtt}"

    def backup(self, action: Action) -> str:
        paths = self.spec.paths
        files = [(paths.cert, paths.cert_mode)]
        if action.with_key:
            files.append((paths.key, paths.key_mode))
        serial = "unreadable"
        try:
            serial = certificate_info(load_certificates_pem(paths.cert.read_bytes())[0]).serial
        except (OSError, ValueError):
            pass
        self.backup_folder = back_up(files, paths.backup_dir, self.clock(), serial, paths.backup_keep)
        return str(self.backup_folder)

    def promote(self, action: Action) -> str:
        paths = self.spec.paths
        if action.with_key:
            rename_atomic(staged(paths.key), paths.key)
        rename_atomic(staged(paths.cert), paths.cert)
        self.promoted_with_key = action.with_key
        return f"{paths.cert} replaced"

    def activate(self, action: Action) -> str:
        candidate = staged(self.spec.paths.cert)
        expected = candidate.read_bytes() if candidate.exists() else None
        run_activation(self.spec)
        if expected is not None and self.spec.paths.cert.read_bytes() != expected:
            raise ReconcileError(f"`{' '.join(self.spec.activation.command)}` succeeded but did not install {candidate}")
        return "done"

    def fix_permissions(self, action: Action) -> str:
        paths = self.spec.paths
        mode = paths.key_mode if action.target == paths.key else paths.cert_mode
        if self.uid is not None or self.gid is not None:
            os.chown(action.target, -1 if self.uid is None else self.uid, -1 if self.gid is None else self.gid)
        os.chmod(action.target, mode)
        return f"mode {mode:04o}"

    def discard_candidate(self, action: Action) -> str:
        return f"moved to {set_aside(action.target, self.spec.paths.backup_dir, self.clock())}"

    # --- the loop -----------------------------------------------------------------------------

    def _roll_back(self, outcome: ApplyOutcome) -> None:
        """Restore this run's backup after a failed activation, then activate the old pair again."""
        paths = self.spec.paths
        restore = [(paths.cert, paths.cert_mode)]
        if self.promoted_with_key:
            restore.insert(0, (paths.key, paths.key_mode))
        for path, mode in restore:
            write_atomic(path, (self.backup_folder / path.name).read_bytes(), mode, self.uid, self.gid)
        detail = f"restored {', '.join(str(p) for p, _ in restore)} from {self.backup_folder}"
        if self.spec.activation.strategy != "none":
            try:
                run_activation(self.spec)
            except ReconcileError as err:
                detail += f"; re-activation failed too: {err}"
        rollback = Action(Kind.ROLLBACK, outcome.results[-1].action.reason, "Rolling back to the previous certificate.", paths.cert)
        result = ActionResult(rollback, "rolled-back", detail)
        outcome.results.append(result)
        self.progress(result)

    def run(self, plan: Plan) -> ApplyOutcome:
        outcome = ApplyOutcome()
        for action in plan.actions:
            handler = getattr(self, action.kind.value)
            try:
                detail = handler(action)
            except ReconcileError as err:
                outcome.error = err
            except OSError as err:
                where = f"{err.filename}: " if err.filename else ""
                outcome.error = ReconcileError(f"{action.kind.value}: {where}{err.strerror or err}")
            if outcome.error is not None:
                result = ActionResult(action, "failed", outcome.error.message)
                outcome.results.append(result)
                self.progress(result)
                if self.promoted_with_key is not None and self.backup_folder is not None:
                    self._roll_back(outcome)
                return outcome
            result = ActionResult(action, "done", detail)
            outcome.results.append(result)
            self.progress(result)
        return outcome
