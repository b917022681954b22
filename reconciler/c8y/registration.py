"""Register devices for certificate enrollment: bulk CSV upload in chunks, status, removal."""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

from reconciler.basics.errors import BadInput, TenantRefused, Unreachable
from reconciler.c8y.admin import AdminClient
from reconciler.c8y.identity import managed_object_id

BULK_PATH = "/devicecontrol/bulkNewDeviceRequests"
REQUEST_PATH = "/devicecontrol/newDeviceRequests/"
COLUMNS = ["ID", "AUTH_TYPE", "ENROLLMENT_OTP", "NAME", "TYPE", "IDTYPE", "com_cumulocity_model_Agent.active"]
OTP_MIN, OTP_MAX = 8, 32  # go-c8y enforces 8–32; the tenant caps at 32
CHUNK_RETRIES = 3
LOOKUP_WORKERS = 8  # identity lookups in flight at once (requests' connection pool keeps 10 per host)


def generate_one_time_password() -> str:
    """32 URL-safe random characters (192 bits)."""
    return secrets.token_urlsafe(24)


@dataclass
class DeviceRegistration:
    device_id: str
    one_time_password: str = field(repr=False)
    name: str | None = None
    type: str = "thin-edge.io"
    generated: bool = False


@dataclass
class DeviceResult:
    device_id: str
    result: str  # created | updated | failed | enrolled (left alone: the device has its certificate)
    reason: str | None = None
    deleted: bool = False  # its pending registration was removed first (--replace): the tenant changed, even if it failed


@dataclass
class RegistrationReport:
    results: list[DeviceResult]
    requests: int

    def count(self, result: str) -> int:
        return sum(r.result == result for r in self.results)

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0


def check_one_time_password(device_id: str, otp: str) -> None:
    if not OTP_MIN <= len(otp) <= OTP_MAX:
        raise BadInput(f"{device_id}: a one-time password must be {OTP_MIN} to {OTP_MAX} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in otp):
        raise BadInput(f"{device_id}: a one-time password must not contain white space")


def bulk_csv(devices: list[DeviceRegistration]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(COLUMNS)
    for device in devices:
        writer.writerow([device.device_id, "CERTIFICATES", device.one_time_password,
                         device.name or device.device_id, device.type, "c8y_Serial", "true"])
    return out.getvalue().encode("utf-8")


def _items(data: dict, key: str) -> list[dict]:
    """The mappings of a list the tenant reports; anything else in it (or instead of it) is ignored."""
    value = data.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _chunk_results(chunk: list[DeviceRegistration], data: dict) -> list[DeviceResult]:
    failed = {str(item.get("deviceId")): str(item.get("failureReason") or "failed") for item in _items(data, "failedCreationList")}
    updated = {str(item.get("deviceId")) for item in _items(data, "credentialUpdatedList")}
    results = []
    for device in chunk:
        if device.device_id in failed:
            results.append(DeviceResult(device.device_id, "failed", failed[device.device_id]))
        elif device.device_id in updated:
            results.append(DeviceResult(device.device_id, "updated"))
        else:
            results.append(DeviceResult(device.device_id, "created"))
    return results


def _upload(admin: AdminClient, chunk: list[DeviceRegistration], sleep) -> list[DeviceResult]:
    body = bulk_csv(chunk)
    last = "no answer"
    for attempt in range(CHUNK_RETRIES):
        try:
            answer = admin.request("POST", BULK_PATH, files={"file": ("bulk-registration.csv", body, "text/csv")},
                                   headers={"Accept": "application/json"})
        except Unreachable as err:
            last = str(err)
        else:
            if 200 <= answer.status < 300:
                try:
                    data = json.loads(answer.body)
                except (ValueError, RecursionError):
                    data = None
                if not isinstance(data, dict):
                    raise TenantRefused("the tenant answered the bulk registration without a JSON report")
                return _chunk_results(chunk, data)
            last = f"{answer.status}: {answer.tenant_message()}"
            if answer.status < 500 and answer.status != 429:
                break
        sleep(2**attempt)
    return [DeviceResult(d.device_id, "failed", f"bulk upload failed ({last})") for d in chunk]


def enrolled_devices(admin: AdminClient, device_ids: list[str], workers: int = LOOKUP_WORKERS) -> dict[str, str]:
    """The devices among `device_ids` that have enrolled (the tenant knows their c8y_Serial): id → managed object id.

    One lookup per device (the identity API has no bulk form), `workers` at a time: a fleet of 10,000
    must not wait for 10,000 round trips in a row. The first error (refused, unreachable) is raised."""
    if not device_ids:
        return {}
    with ThreadPoolExecutor(max_workers=min(workers, len(device_ids))) as pool:
        found = list(pool.map(lambda device_id: managed_object_id(admin, device_id), device_ids))
    return {device_id: mo_id for device_id, mo_id in zip(device_ids, found) if mo_id is not None}


def _enrolled_result(device_id: str, mo_id: str) -> DeviceResult:
    return DeviceResult(device_id, "enrolled", f"already enrolled (managed object {mo_id}); not registered again")


def register_devices(
    admin: AdminClient, devices: list[DeviceRegistration], *, replace: bool = False, skip_enrolled: bool = True,
    chunk_size: int = 1000, sleep=time.sleep,
) -> RegistrationReport:
    """Register all `devices`; with `replace`, remove each one's existing registration first.

    A device that has enrolled already is looked up first (identity API) and left alone, `enrolled`:
    registering it again would issue a new one-time password with which anyone could obtain a
    certificate for its name. `skip_enrolled=False` registers it all the same (a new password on purpose).
    """
    if chunk_size < 1:
        raise BadInput("--chunk-size must be at least 1")
    seen = set()
    for device in devices:
        if device.device_id in seen:
            raise BadInput(f"{device.device_id}: listed twice")
        seen.add(device.device_id)
        check_one_time_password(device.device_id, device.one_time_password)
    start = admin.requests_made
    enrolled = enrolled_devices(admin, [d.device_id for d in devices]) if skip_enrolled else {}
    to_register = [d for d in devices if d.device_id not in enrolled]
    deleted = set()
    if replace:
        for device in to_register:
            if delete_registration(admin, device.device_id):
                deleted.add(device.device_id)
    uploaded = {}
    for i in range(0, len(to_register), chunk_size):
        for result in _upload(admin, to_register[i : i + chunk_size], sleep):
            result.deleted = result.device_id in deleted
            uploaded[result.device_id] = result
    results = [_enrolled_result(d.device_id, enrolled[d.device_id]) if d.device_id in enrolled else uploaded[d.device_id]
               for d in devices]
    return RegistrationReport(results, admin.requests_made - start)


def registration_status(admin: AdminClient, device_id: str) -> str | None:
    """The status of a pending registration (WAITING_FOR_CONNECTION, ...), or None when there is none."""
    answer = admin.request("GET", REQUEST_PATH + quote(device_id, safe=""), headers={"Accept": "application/json"})
    if answer.status == 404:
        return None
    try:
        return str(json.loads(answer.body)["status"])
    except (ValueError, KeyError, TypeError, RecursionError):
        raise TenantRefused(f"unexpected answer for the registration of {device_id} ({answer.status})") from None


def delete_registration(admin: AdminClient, device_id: str) -> bool:
    answer = admin.request("DELETE", REQUEST_PATH + quote(device_id, safe=""))
    if answer.status == 404:
        return False
    if not 200 <= answer.status < 300:
        raise TenantRefused(f"could not remove the registration of {device_id} ({answer.status}): {answer.tenant_message()}")
    return True


def registration_url(tenant_url: str, device_id: str, one_time_password: str) -> str:
    """The Device Management page that registers this device with its one-time password."""
    host = urlsplit(tenant_url).netloc
    query = urlencode({"externalId": device_id, "one-time-password": one_time_password})
    return f"https://{host}/apps/devicemanagement/index.html#/deviceregistration?{query}"
