"""The tenant's REST side an administrator's fleet tool uses: identity and inventory.

Each route is a function (handler, body, fault, *path groups), like TenantHandler's methods; all
need the admin's Basic credentials, as the tenant does for a user without device roles.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

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
        try:
            fragments = json.loads(body or b"null")
        except (ValueError, RecursionError):
            fragments = None
        if not isinstance(fragments, dict):
            return handler._error(422, "inventory/invalidRequest", "expected a JSON object of fragments")
        document = inventory.update(mo_id, fragments)
    else:
        document = inventory.get(mo_id)
    if document is None:
        return handler._error(404, "inventory/Not Found", f"Finding device data from database failed : No managedObject for id '{mo_id}'!")
    handler._json(200, managed_object_json(handler.tenant, document))


TENANT_ROUTES = [
    ("GET", r"/identity/externalIds/([^/]+)/([^/]+)", external_id, False),
    ("GET", r"/inventory/managedObjects/(\d+)", managed_object, False),
    ("PUT", r"/inventory/managedObjects/(\d+)", managed_object, False),
]
