"""Device operations and bulk operations on the tenant: create `c8y_RenewCertificate`, read back
their statuses. Answers are checked field by field; a status the tenant invents is kept as text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from reconciler.basics.errors import TenantRefused
from reconciler.c8y.admin import AdminClient, failed_answer
from reconciler.c8y.certificate_fragment import text, whole
from reconciler.c8y.collections import read_all

OPERATIONS = "/devicecontrol/operations"
BULK = "/devicecontrol/bulkoperations"
RENEW_FRAGMENT = "c8y_RenewCertificate"
DESCRIPTION = "Renew the device certificate"
TERMINAL = ("SUCCESSFUL", "FAILED")
ROLE = "ROLE_DEVICE_CONTROL_ADMIN"
_OPERATION_TYPE = {"Content-Type": "application/json", "Accept": "application/json"}


def renew_prototype(rotate_key: bool) -> dict:
    """The operation's fragments; the template hands `c8y_RenewCertificate` (an object) to the workflow."""
    return {"description": DESCRIPTION + (" with a new key" if rotate_key else ""), RENEW_FRAGMENT: {"rotateKey": rotate_key}}


@dataclass(frozen=True)
class Operation:
    id: str
    device: str | None  # the managed object id
    device_name: str | None
    status: str  # PENDING | EXECUTING | SUCCESSFUL | FAILED, or what the tenant said
    failure_reason: str | None
    result: str | None  # what the workflow reported on success (<fragment>.result)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True)
class Progress:
    pending: int
    executing: int
    successful: int
    failed: int
    all: int

    @property
    def finished(self) -> bool:
        return self.all > 0 and self.successful + self.failed >= self.all


@dataclass(frozen=True)
class BulkOperation:
    id: str
    general_status: str | None
    progress: Progress | None
    prototype: dict | None


def _document(answer, what: str) -> dict:
    if not 200 <= answer.status < 300:
        raise failed_answer(answer, what)
    data = answer.json_object()
    if data is None or _id(data.get("id")) is None:
        raise TenantRefused(f"the tenant's answer to {what} has no id")
    return data


def _id(value) -> str | None:
    return str(value) if whole(value, 0, 10**18) is not None else text(value, 64)


def operation_of(data: dict) -> Operation:
    result = data.get(RENEW_FRAGMENT, {}).get("result") if isinstance(data.get(RENEW_FRAGMENT), dict) else None
    if isinstance(result, list):
        result = ", ".join(str(item) for item in result)
    return Operation(_id(data.get("id")) or "?", _id(data.get("deviceId")), text(data.get("deviceName")),
                     text(data.get("status"), 40) or "UNKNOWN", text(data.get("failureReason"), 500), text(result, 500))


def create_operation(admin: AdminClient, managed_object: str, rotate_key: bool) -> Operation:
    body = {"deviceId": managed_object, **renew_prototype(rotate_key)}
    answer = admin.request("POST", OPERATIONS, needs=ROLE, data=json.dumps(body),
                           headers={**_OPERATION_TYPE, "Content-Type": "application/vnd.com.nsn.cumulocity.operation+json"})
    return operation_of(_document(answer, f"the operation for managed object {managed_object}"))


def get_operation(admin: AdminClient, op_id: str) -> Operation:
    answer = admin.request("GET", f"{OPERATIONS}/{op_id}", headers={"Accept": "application/json"})
    return operation_of(_document(answer, f"the read of operation {op_id}"))


def open_renewals(admin: AdminClient) -> dict[str, Operation]:
    """The c8y_RenewCertificate operations not yet ended (PENDING or EXECUTING), by managed object id."""
    found = {}
    for status in ("PENDING", "EXECUTING"):
        params = {"fragmentType": RENEW_FRAGMENT, "status": status}
        for data in read_all(admin, OPERATIONS, "operations", params, what="operations"):
            operation = operation_of(data)
            if operation.device and operation.status == status:  # a tenant that ignores the filter adds nothing
                found.setdefault(operation.device, operation)
    return found


def bulk_children(admin: AdminClient, bulk_id: str) -> list[Operation]:
    return [operation_of(d) for d in read_all(admin, OPERATIONS, "operations", {"bulkOperationId": bulk_id}, what="operations")]


def _progress(value) -> Progress | None:
    if not isinstance(value, dict):
        return None
    counts = [whole(value.get(k), 0, 10**9) for k in ("pending", "executing", "successful", "failed", "all")]
    return None if None in counts else Progress(*counts)


def bulk_of(data: dict) -> BulkOperation:
    prototype = data.get("operationPrototype")
    return BulkOperation(_id(data.get("id")) or "?", text(data.get("generalStatus"), 40), _progress(data.get("progress")),
                         prototype if isinstance(prototype, dict) else None)


def create_bulk(admin: AdminClient, *, prototype: dict, ramp_seconds: float, group: str | None = None,
                failed_parent: str | None = None, start: datetime | None = None) -> BulkOperation:
    """A bulk operation over a group's devices, or over the failed children of `failed_parent`."""
    moment = (start or datetime.now(timezone.utc)).astimezone(timezone.utc)
    body = {"startDate": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "creationRamp": ramp_seconds, "operationPrototype": prototype}
    body.update({"groupId": group} if group is not None else {"failedParentId": failed_parent})
    answer = admin.request("POST", BULK, needs=ROLE, data=json.dumps(body), headers=_OPERATION_TYPE)
    what = f"the bulk operation for group {group}" if group is not None else f"the retry of bulk operation {failed_parent}"
    return bulk_of(_document(answer, what))


def get_bulk(admin: AdminClient, bulk_id: str) -> BulkOperation | None:
    answer = admin.request("GET", f"{BULK}/{bulk_id}", headers={"Accept": "application/json"})
    if answer.status == 404:
        return None
    return bulk_of(_document(answer, f"the read of bulk operation {bulk_id}"))
