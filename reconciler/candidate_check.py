"""Whether an issued certificate may replace the live one (pure; shared by plan and apply)."""

from __future__ import annotations

from datetime import datetime

from reconciler.renewal import renewal_time
from reconciler.spec_types import RenewBefore
from reconciler.x509_facts import CertificateInfo


def candidate_problem(
    info: CertificateInfo, key_id: str | None, device_id: str, now: datetime, renew_before: RenewBefore
) -> str | None:
    """Why `info` must not be installed for this key and device at `now`, or None when it may."""
    if key_id is None or info.public_key_id != key_id:
        return "its public key is not the device's key"
    if info.subject_cn != device_id:
        return f"its CN is {info.subject_cn!r}, not the device id {device_id!r}"
    if now < info.not_before:
        return f"it is not valid before {info.not_before:%Y-%m-%d %H:%M:%S}Z"
    if now >= info.not_after:
        return f"it expired on {info.not_after:%Y-%m-%d %H:%M:%S}Z"
    due = renewal_time(info.not_before, info.not_after, renew_before)
    if now >= due:
        return f"it is already due for renewal (since {due:%Y-%m-%d %H:%M:%S}Z)"
    return None
