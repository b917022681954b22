"""From a device id to the tenant's managed object: the identity API (`c8y_Serial` external ids)."""

from __future__ import annotations

import re
from urllib.parse import quote

from reconciler.basics.errors import TenantRefused
from reconciler.c8y.admin import AdminClient, failed_answer

SERIAL = "c8y_Serial"
_MANAGED_OBJECT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")  # Cumulocity ids are digits; accept a little more, nothing odd


def external_id_path(device_id: str, id_type: str = SERIAL) -> str:
    return f"/identity/externalIds/{quote(id_type, safe='')}/{quote(device_id, safe='')}"


def managed_object_id(admin: AdminClient, device_id: str, id_type: str = SERIAL) -> str | None:
    """The id of the managed object that `device_id` is known by, or None when the tenant knows it not."""
    answer = admin.request("GET", external_id_path(device_id, id_type), needs="ROLE_IDENTITY_READ",
                           headers={"Accept": "application/json"})
    if answer.status == 404:
        return None
    if not 200 <= answer.status < 300:
        raise failed_answer(answer, f"the look-up of {device_id}")
    try:
        found = (answer.json_object() or {})["managedObject"]["id"]
    except (KeyError, TypeError):
        raise TenantRefused(f"the tenant's identity answer for {device_id} has no managedObject.id") from None
    if isinstance(found, int) and not isinstance(found, bool):
        found = str(found)
    if not isinstance(found, str) or not _MANAGED_OBJECT_ID.fullmatch(found):
        raise TenantRefused(f"the tenant's identity answer for {device_id} has an unusable managed object id")
    return found
