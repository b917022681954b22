"""REST routes for device operations and bulk operations (admin credentials)."""

from __future__ import annotations

from datetime import datetime, timezone

from c8y_emulator.json_body import json_object
from c8y_emulator.operations import OperationError, parse_iso
from c8y_emulator.paging import PagingError, page, parameters
from c8y_emulator.tenant_routes import UNAUTHORIZED


def _refused(handler) -> bool:
    if handler._admin():
        return False
    handler._error(401, *UNAUTHORIZED)
    return True


def _with_self(tenant, document: dict, kind: str) -> dict:
    document["self"] = f"{tenant.url}/devicecontrol/{kind}/{document['id']}"
    return document


def operations(handler, body: bytes, _fault):
    if _refused(handler):
        return
    tenant = handler.tenant
    if handler.command == "POST":
        request = json_object(body)
        device = request.get("deviceId") if request else None
        if not isinstance(device, str) or tenant.inventory.get(device) is None:
            return handler._error(422, "devicecontrol/invalidRequest", "deviceId must name an existing managed object")
        created = tenant.operations.create(device, tenant.inventory.get(device).get("name"), request)
        return handler._json(201, _with_self(tenant, created, "operations"))
    params = parameters(handler.path)
    found = tenant.operations.select(params.get("deviceId"), params.get("status"), params.get("fragmentType"),
                                     params.get("bulkOperationId"))
    if params.get("revert") == "true":
        found.reverse()
    try:
        document = page([_with_self(tenant, d, "operations") for d in found], params,
                        f"{tenant.url}/devicecontrol/operations", "operations")
    except PagingError as err:
        return handler._error(400, "devicecontrol/invalidRequest", str(err))
    handler._json(200, document)


def operation(handler, body: bytes, _fault, op_id: str):
    if _refused(handler):
        return
    tenant = handler.tenant
    if handler.command == "PUT":
        changes = json_object(body)
        if changes is None:
            return handler._error(422, "devicecontrol/invalidRequest", "expected a JSON object")
        try:
            document = tenant.operations.update(op_id, changes)
        except OperationError as err:
            return handler._error(422, "devicecontrol/invalidRequest", str(err))
    else:
        document = tenant.operations.get(op_id)
    if document is None:
        return handler._error(404, "devicecontrol/Not Found", f"Could not find operation with id {op_id}")
    handler._json(200, _with_self(tenant, document, "operations"))


def _bulk_targets(tenant, request: dict) -> list[tuple[str, str | None]]:
    group, parent = request.get("groupId"), request.get("failedParentId")
    if (group is None) == (parent is None):
        raise OperationError("give exactly one of groupId and failedParentId")
    if group is not None:
        found = tenant.inventory.get(str(group))
        if found is None or "c8y_IsDeviceGroup" not in found:
            raise OperationError(f"groupId {group} is not a device group")
        members = tenant.inventory.children(str(group))
    else:
        if tenant.operations.get_bulk(str(parent)) is None:
            raise OperationError(f"failedParentId {parent} is not a bulk operation")
        members = tenant.operations.failed_devices(str(parent))
    return [(m, (tenant.inventory.get(m) or {}).get("name")) for m in members]


def bulk_operations(handler, body: bytes, _fault):
    if _refused(handler):
        return
    tenant = handler.tenant
    if handler.command == "POST":
        request = json_object(body)
        try:
            if request is None or not isinstance(request.get("operationPrototype"), dict):
                raise OperationError("operationPrototype must be a JSON object")
            ramp = request.get("creationRamp", 0)
            if isinstance(ramp, bool) or not isinstance(ramp, (int, float)) or not 0 <= ramp <= 86400:
                raise OperationError("creationRamp must be a number of seconds")
            start = request.get("startDate")
            try:
                start = parse_iso(start) if isinstance(start, str) else None
            except ValueError:
                start = None
            if start is None:
                raise OperationError("startDate must be an ISO 8601 date")
            targets = _bulk_targets(tenant, request)
        except OperationError as err:
            return handler._error(422, "devicecontrol/invalidRequest", str(err))
        created = tenant.operations.create_bulk(request, targets, max(start, datetime.now(timezone.utc)), float(ramp))
        return handler._json(201, _with_self(tenant, created, "bulkoperations"))
    try:
        document = page([_with_self(tenant, b, "bulkoperations") for b in tenant.operations.all_bulk()],
                        parameters(handler.path), f"{tenant.url}/devicecontrol/bulkoperations", "bulkOperations")
    except PagingError as err:
        return handler._error(400, "devicecontrol/invalidRequest", str(err))
    handler._json(200, document)


def bulk_operation(handler, _body, _fault, bulk_id: str):
    if _refused(handler):
        return
    document = handler.tenant.operations.get_bulk(bulk_id)
    if document is None:
        return handler._error(404, "devicecontrol/Not Found", f"Could not find bulk operation with id {bulk_id}")
    handler._json(200, _with_self(handler.tenant, document, "bulkoperations"))


OPERATION_ROUTES = [
    ("POST", r"/devicecontrol/operations", operations, False),
    ("GET", r"/devicecontrol/operations", operations, False),
    ("GET", r"/devicecontrol/operations/(\d+)", operation, False),
    ("PUT", r"/devicecontrol/operations/(\d+)", operation, False),
    ("POST", r"/devicecontrol/bulkoperations", bulk_operations, False),
    ("GET", r"/devicecontrol/bulkoperations", bulk_operations, False),
    ("GET", r"/devicecontrol/bulkoperations/(\d+)", bulk_operation, False),
]
