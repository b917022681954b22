"""The `deviceCertificate` fragment a device publishes as its twin, read back from the inventory.

The fragment is written by devices, so every field is checked on its own: a missing or malformed
one is None (shown as "-") and never stops the report of the whole fleet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FRAGMENT = "deviceCertificate"
MAX_TEXT = 200
MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z
_CN = re.compile(r"(?:^|,)\s*CN=((?:[^,\\]|\\.)+)")


def text(value, limit: int = MAX_TEXT) -> str | None:
    """A printable string of at most `limit` characters, or None."""
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch if ch.isprintable() else " " for ch in value).strip()
    if not cleaned:
        return None
    return cleaned[:limit] + ("…" if len(cleaned) > limit else "")


def whole(value, low: int = 0, high: int = MAX_EPOCH) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


@dataclass(frozen=True)
class DeviceCertificate:
    managed_object: str
    name: str | None
    device_id: str | None  # the certificate's CN when the fragment names it, else the object's name
    serial: str | None
    not_after: str | None
    not_after_epoch: int | None
    renew_at: str | None
    renew_at_epoch: int | None
    last_run_time: str | None
    last_run_status: str | None
    last_exit_code: int | None
    failures: int | None
    backoff_until: str | None
    last_failure_reason: str | None
    tool_version: str | None

    def days_left(self, now_epoch: int) -> int | None:
        """Whole days until not-after (negative once expired), rounded down."""
        return None if self.not_after_epoch is None else (self.not_after_epoch - now_epoch) // 86400


def managed_object_id(document: dict) -> str | None:
    found = document.get("id")
    if isinstance(found, int) and not isinstance(found, bool):
        found = str(found)
    return text(found, 64)


def common_name(subject) -> str | None:
    match = _CN.search(subject) if isinstance(subject, str) else None
    return text(match.group(1).replace("\\", "")) if match else None


def read_fragment(document: dict) -> DeviceCertificate | None:
    """The certificate facts of a managed object, or None when it carries no deviceCertificate object."""
    fragment = document.get(FRAGMENT)
    if not isinstance(fragment, dict):
        return None
    last_run = fragment.get("lastRun") if isinstance(fragment.get("lastRun"), dict) else {}
    tool = fragment.get("tool") if isinstance(fragment.get("tool"), dict) else {}
    name = text(document.get("name"))
    return DeviceCertificate(
        managed_object=managed_object_id(document) or "?",
        name=name,
        device_id=common_name(fragment.get("subject")) or name,
        serial=text(fragment.get("serialNumber"), 64),
        not_after=text(fragment.get("notAfter"), 40),
        not_after_epoch=whole(fragment.get("notAfterEpoch")),
        renew_at=text(fragment.get("renewAt"), 40),
        renew_at_epoch=whole(fragment.get("renewAtEpoch")),
        last_run_time=text(last_run.get("time"), 40),
        last_run_status=text(last_run.get("status"), 40),
        last_exit_code=whole(last_run.get("exitCode"), -1, 255),
        failures=whole(fragment.get("consecutiveFailures"), 0, 10**9),
        backoff_until=text(fragment.get("backoffUntil"), 40),
        last_failure_reason=text(fragment.get("lastFailureReason")),
        tool_version=text(tool.get("version"), 40),
    )
