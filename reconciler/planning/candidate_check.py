"""Whether an issued certificate may replace the live one (pure; shared by plan and apply)."""

from __future__ import annotations

from datetime import datetime

from reconciler.basics.durations import format_duration
from reconciler.basics.timestamps import human_time
from reconciler.desired.types import RenewBefore
from reconciler.planning.renewal import renewal_time
from reconciler.x509.facts import CertificateInfo


def candidate_problem(
    info: CertificateInfo, key_id: str | None, device_id: str, now: datetime, renew_before: RenewBefore,
    nothing_better: bool = False,
) -> str | None:
    """Why `info` must not be installed for this key and device at `now`, or None when it may.
    A certificate already due for renewal may still go live when the device has `nothing_better`:
    it works, and throwing it away would lose what a spent one-time password bought. One that is
    not valid yet by the device's clock is no reason to throw it away either: see `clock_behind`."""
    if key_id is None or info.public_key_id != key_id:
        return "its public key is not the device's key"
    if info.subject_cn != device_id:
        return f"its CN is {info.subject_cn!r}, not the device id {device_id!r}"
    if now >= info.not_after:
        return f"it expired on {human_time(info.not_after)}"
    due = renewal_time(info.not_before, info.not_after, renew_before)
    if now >= due and not nothing_better:
        return f"it is already due for renewal (since {human_time(due)}) and lives no longer than the current one"
    return None


def clock_behind(info: CertificateInfo, now: datetime) -> str | None:
    """The tenant issued it just now by its own clock: if it is not valid yet by ours, our clock is
    behind (a device booted without a time source). The certificate is kept, the run blocked."""
    if now >= info.not_before:
        return None
    return (
        f"is valid only from {human_time(info.not_before)} but the device clock says "
        f"{human_time(now)}; it is kept: check the clock (NTP), the next run goes on"
    )


def already_due(info: CertificateInfo, now: datetime, renew_before: RenewBefore) -> bool:
    return now >= renewal_time(info.not_before, info.not_after, renew_before)


def better_than(live: CertificateInfo | None, candidate: CertificateInfo, now: datetime) -> bool:
    """Whether the live certificate (None: none usable) serves longer than `candidate`."""
    return live is not None and now < live.not_after and live.not_after >= candidate.not_after


def short_lifetime_warning(info: CertificateInfo, renew_before: RenewBefore) -> str:
    lifetime = info.not_after - info.not_before
    return (
        f"the tenant issued a certificate valid for {format_duration(lifetime)} (until "
        f"{human_time(info.not_after)}), already within renew_before {renew_before}: stored, as the device "
        "has nothing better; the next request waits for tenant.backoff"
    )
