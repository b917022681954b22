"""The tenant's REST side an administrator's fleet tool uses: identity and inventory.

Each route is a function (handler, body, fault, *path groups), like TenantHandler's methods; all
need the admin's Basic credentials, as the tenant does for a user without device roles.
"""

from __future__ import annotations

from urllib.parse import unquote

from c8y_emulator.json_body import json_object
from c8y_emulator.paging import PagingError, page, parameters
from c8y_emulator.query import Query, QueryError

UNAUTHORIZED = ("security/Unauthorized", "Invalid credentials! : Bad credentials")


def managed_object_json(tenant, document: dict) -> dict:
    """A managed object as the tenant shows it: `self` links, child assets as references."""
    base = f"{tenant.url}/inventory/managedObjects/{document['id']}"
    shown = {k: v for k, v in document.items() if k != "childAssets"}
    children = document.get("childAssets", [])
    shown["self"] = base
    shown["childAssets"] = {
        "self": f"{base}/childAssets",
        "references": [{"managedObject": {"id": c["id"], "self": f"{tenant.url}/inventory/managedObjects/{c['id']}"}}
                       for c in children],
    }
    return shown


def _refused(handler) -> bool:
    if handler._admin():
        return False
    handler._error(401, *UNAUTHORIZED)
    return True


def external_id(handler, _body, _fault, id_type: str, value: str):
    if _refused(handler):
        return
    id_type, value = unquote(id_type), unquote(value)
    mo_id = handler.tenant.inventory.by_external_id(id_type, value)
    if mo_id is None:
        return handler._error(404, "identity/Not Found", f"External id not found; external id = ID [type={id_type}, value={value}]")
    handler._json(200, {
        "externalId": value, "type": id_type,
        "self": f"{handler.tenant.url}/identity/externalIds/{id_type}/{value}",
        "managedObject": {"id": mo_id, "self": f"{handler.tenant.url}/inventory/managedObjects/{mo_id}"},
    })


def managed_object(handler, body: bytes, _fault, mo_id: str):
    if _refused(handler):
        return
    inventory = handler.tenant.inventory
    if handler.command == "PUT":
        fragments = json_object(body)
        if fragments is None:
            return handler._error(422, "inventory/invalidRequest", "expected a JSON object of fragments")
        document = inventory.update(mo_id, fragments)
    else:
        document = inventory.get(mo_id)
    if document is None:
        return handler._error(404, "inventory/Not Found", f"Finding device data from database failed : No managedObject for id '{mo_id}'!")
    handler._json(200, managed_object_json(handler.tenant, document))


def managed_objects(handler, body: bytes, _fault):
    """GET: the query subset (query.py), fragmentType, type, paging. POST: create an object."""
    if _refused(handler):
        return
    tenant = handler.tenant
    base = f"{tenant.url}/inventory/managedObjects"
    if handler.command == "POST":
        fragments = json_object(body)
        if fragments is None:
            return handler._error(422, "inventory/invalidRequest", "expected a JSON object of fragments")
        return handler._json(201, managed_object_json(tenant, tenant.inventory.create(fragments)))
    params = parameters(handler.path)
    try:
        query = Query(params.get("query", ""))
        for name in ("fragmentType", "type"):
            if params.get(name):
                query = _also(query, name, params[name])
        with tenant.inventory.lock:
            found = tenant.inventory.query(query)
            document = page(found, params, base, "managedObjects")
            document["managedObjects"] = [managed_object_json(tenant, d) for d in document["managedObjects"]]
    except (QueryError, PagingError) as err:
        return handler._error(400, "inventory/invalidQuery", f"Invalid query: {err}")
    handler._json(200, document)


def _also(query: Query, name: str, value: str) -> Query:
    """`query` narrowed by the fragmentType or type parameter."""
    narrowed = query.predicate
    if name == "fragmentType":
        query.predicate = lambda d, g: value in d and narrowed(d, g)
    else:
        query.predicate = lambda d, g: d.get("type") == value and narrowed(d, g)
    return query


def child_assets(handler, body: bytes, _fault, group_id: str):
    if _refused(handler):
        return
    reference = json_object(body)
    member = reference.get("managedObject", {}).get("id") if reference and isinstance(reference.get("managedObject"), dict) else None
    if not isinstance(member, str) or not handler.tenant.inventory.add_child(group_id, member):
        return handler._error(422, "inventory/invalidRequest", "expected {\"managedObject\": {\"id\": <existing id>}} for an existing group")
    handler._json(201, {"managedObject": {"id": member, "self": f"{handler.tenant.url}/inventory/managedObjects/{member}"}})


def new_device_requests(handler, _body, _fault):
    """The pending registrations, paged."""
    if _refused(handler):
        return
    tenant = handler.tenant
    base = f"{tenant.url}/devicecontrol/newDeviceRequests"
    items = [{"id": r.device_id, "status": r.status, "self": f"{base}/{r.device_id}"} for r in tenant.registry.pending()]
    try:
        handler._json(200, page(items, parameters(handler.path), base, "newDeviceRequests"))
    except PagingError as err:
        handler._error(400, "devicecontrol/invalidRequest", str(err))


TENANT_ROUTES = [
    ("GET", r"/inventory/managedObjects", managed_objects, False),
    ("POST", r"/inventory/managedObjects", managed_objects, False),
    ("POST", r"/inventory/managedObjects/(\d+)/childAssets", child_assets, False),
    ("GET", r"/devicecontrol/newDeviceRequests", new_device_requests, False),
    ("GET", r"/identity/externalIds/([^/]+)/([^/]+)", external_id, False),
    ("GET", r"/inventory/managedObjects/(\d+)", managed_object, False),
    ("PUT", r"/inventory/managedObjects/(\d+)", managed_object, False),
]
