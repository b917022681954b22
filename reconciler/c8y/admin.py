"""The tenant administrator's session: Basic auth `{tenant}/{user}:{password}` from env or a file."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from reconciler.basics.errors import BadInput, ReconcileError, TenantRefused, Unreachable
from reconciler.basics.limits import MAX_CREDENTIALS_BYTES
from reconciler.c8y.http import Answer, Transient, new_session, send
from reconciler.desired.load import read_text_file
from reconciler.desired.model import normalize_tenant_url


@dataclass(frozen=True)
class AdminCredentials:
    user: str
    password: str = field(repr=False)
    tenant: str | None = None

    @property
    def basic_user(self) -> str:
        return f"{self.tenant}/{self.user}" if self.tenant else self.user


def _parse_env_file(path: Path) -> dict[str, str]:
    text = read_text_file(path, MAX_CREDENTIALS_BYTES, "credentials file")
    values = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep:
            raise BadInput(f"{path}:{number}: expected KEY=VALUE")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def load_admin_credentials(file: Path | None, environ: Mapping[str, str] | None = None) -> AdminCredentials:
    """From `file` (C8Y_USER=..., C8Y_PASSWORD=..., C8Y_TENANT=... lines), else the environment."""
    values = _parse_env_file(file) if file else dict(os.environ if environ is None else environ)
    where = str(file) if file else "the environment"
    user, password = values.get("C8Y_USER", "").strip(), values.get("C8Y_PASSWORD", "")
    if not user or not password:
        raise BadInput(f"admin credentials: C8Y_USER and C8Y_PASSWORD must be set in {where}")
    return AdminCredentials(user, password, values.get("C8Y_TENANT") or None)


class AdminClient:
    def __init__(self, tenant_url: str, credentials: AdminCredentials, ca_bundle: Path | None = None, timeout: float = 60):
        try:
            self.url = normalize_tenant_url(tenant_url)
        except ValueError as err:
            raise BadInput(f"--tenant: {err}") from None
        self.session = new_session(ca_bundle)
        self.session.auth = (credentials.basic_user, credentials.password)
        self.timeout = timeout
        self.requests_made = 0
        self._count_lock = threading.Lock()  # lookups run in threads (registration.enrolled_devices)

    def request(self, method: str, path: str, needs: str | None = None, **kwargs) -> Answer:
        """The tenant's answer; a refusal of the credentials is TenantRefused, naming the roles
        `needs` when the user is known but not allowed (403)."""
        with self._count_lock:
            self.requests_made += 1
        try:
            answer = send(self.session, method, self.url + path, timeout=self.timeout, **kwargs)
        except Transient as err:
            raise Unreachable(str(err)) from None
        if answer.status in (401, 403):
            hint = f" (this needs {needs})" if needs and answer.status == 403 else ""
            raise TenantRefused(f"the tenant refused the admin credentials ({answer.status}): {answer.tenant_message()}{hint}")
        return answer


def failed_answer(answer: Answer, what: str) -> ReconcileError:
    """A non-2xx answer to an administrator's request about `what`. 5xx and 429 say the tenant is in
    trouble, and asking again later may work (exit 8, as on the device side); anything else is a
    refusal (exit 6)."""
    said = f"({answer.status}): {answer.tenant_message()}"
    if answer.status >= 500 or answer.status == 429:
        return Unreachable(f"the tenant could not answer {what} {said}")
    return TenantRefused(f"the tenant refused {what} {said}")
