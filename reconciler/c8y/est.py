"""EST requests as the tenant expects them, and what each answer means for the device.

Undocumented corners of the contract are read liberally (see shared c8y-contract.md): any 2xx
with a certificate is success; while enrolling, 401/403/404-with-JSON/409/422/423 mean "not
registered yet (or not with this password)" and are retried; a 404 without a JSON body is a
front end telling us the certificate-authority feature is off.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from reconciler.basics.errors import TenantRefused
from reconciler.c8y.http import Answer

ENROLL_PATH = "/.well-known/est/simpleenroll"
REENROLL_PATH = "/.well-known/est/simplereenroll"
CACERTS_PATH = "/.well-known/est/cacerts"
WAITING_STATUSES = {401, 403, 404, 409, 422, 423}


def csr_body(csr_der: bytes) -> bytes:
    """Base64 of the DER CSR in 64-character lines, ending with a newline (libest needs it)."""
    text = base64.b64encode(csr_der)
    return b"\n".join(text[i : i + 64] for i in range(0, len(text), 64)) + b"\n"


CSR_HEADERS = {
    "Content-Type": "application/pkcs10",
    "Content-Transfer-Encoding": "base64",
    "Accept": "application/pkcs7-mime, application/pkcs10;q=0.5, */*;q=0.1",
}


@dataclass(frozen=True)
class Verdict:
    """What one answer means: the tenant's issued answer (bytes, as sent), or a reason to try again."""

    answer: bytes | None = None
    retry: str | None = None
    retry_after: float | None = None  # seconds the tenant asked for
    transient: bool = False  # server trouble: back off exponentially


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit() also says yes to "²", which float() refuses
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # OverflowError: a year or zone of 20 digits
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - (now or datetime.now(timezone.utc))).total_seconds())


def judge(answer: Answer, *, enrolling: bool) -> Verdict:
    """Turn an EST answer into the issued answer, a retry, or TenantRefused for what retrying cannot fix."""
    status, said = answer.status, answer.tenant_message()
    what = "enrollment" if enrolling else "re-enrollment"
    retry_after = retry_after_seconds(answer.headers.get("retry-after"))
    if status == 202:
        return Verdict(retry=f"the tenant asks to wait (202): {said}", retry_after=retry_after)
    if 200 <= status < 300:
        if not answer.body.strip():
            raise TenantRefused(f"the tenant answered {what} with {status} but an empty body")
        # Stored as sent, before anything reads it: decoding and verification come after (apply).
        return Verdict(answer=answer.body)
    if status in (429, 503) or status >= 500:
        return Verdict(retry=f"the tenant is in trouble ({status}): {said}", retry_after=retry_after, transient=True)
    if status == 404 and not answer.is_json():
        raise TenantRefused(
            f"the tenant does not offer {what} (404 without a JSON answer: {said}); "
            "is its certificate-authority feature on?"
        )
    if enrolling and status in WAITING_STATUSES:
        return Verdict(retry=f"not registered yet, or not with this one-time password ({status}): {said}")
    if status == 400:
        raise TenantRefused(f"the tenant rejected the CSR (400): {said}")
    if status in (401, 403):
        raise TenantRefused(f"the tenant refused the device token ({status}): {said}")
    raise TenantRefused(f"the tenant refused {what} ({status}): {said}")
