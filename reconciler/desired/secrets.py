"""Secrets come from a file or an environment variable, never from argv, and are read only when used."""

import os
from pathlib import Path
from typing import Mapping, NamedTuple

from reconciler.basics.errors import BadInput
from reconciler.basics.limits import MAX_SECRET_BYTES
from reconciler.basics.safe_read import FileRefused, read_regular


class SecretSource(NamedTuple):
    """Where a secret lives; `describe()` names the place, never the value."""

    what: str
    file: Path | None = None
    env: str | None = None

    def describe(self) -> str:
        if self.file:
            return f"file {self.file}"
        if self.env:
            return f"environment variable {self.env}"
        return "nowhere (not configured)"

    def available(self, environ: Mapping[str, str]) -> bool:
        if self.file:
            try:
                return self.file.is_file() and self.file.stat().st_size > 0
            except OSError:
                return False
        return bool(self.env and environ.get(self.env, "").strip())

    def read(self, environ: Mapping[str, str] | None = None) -> str:
        """The secret with surrounding white space removed; BadInput when absent or empty."""
        environ = os.environ if environ is None else environ
        if self.file:
            try:
                raw = read_regular(self.file, MAX_SECRET_BYTES)
            except FileRefused as err:
                raise BadInput(f"{self.what}: {err}") from None
            except OSError as err:
                raise BadInput(f"{self.what}: cannot read {self.file}: {err.strerror}") from None
            try:
                value = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                raise BadInput(f"{self.what}: {self.file} is not UTF-8 text") from None
        elif self.env:
            value = environ.get(self.env, "").strip()
        else:
            raise BadInput(f"{self.what}: not configured")
        if not value:
            raise BadInput(f"{self.what}: {self.describe()} is empty")
        return value


def one_time_password_source(spec) -> SecretSource:
    enrollment = spec.enrollment
    return SecretSource(
        "one-time password",
        file=enrollment.one_time_password_file,
        env=enrollment.one_time_password_env,
    )
