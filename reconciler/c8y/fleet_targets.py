"""Which managed objects `reconcile fleet renew` acts on: named devices, devices expiring soon, a group."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.basics.errors import BadInput
from reconciler.c8y.admin import AdminClient
from reconciler.c8y.certificate_fragment import managed_object_id
from reconciler.c8y.collections import read_all
from reconciler.c8y.fleet_status import INVENTORY, certificate_query, certificates, quoted
from reconciler.c8y.identity import managed_object_id as lookup


@dataclass(frozen=True)
class Target:
    device_id: str
    managed_object: str | None  # None: the tenant knows no such device


def named_devices(admin: AdminClient, device_ids: list[str]) -> list[Target]:
    return [Target(device_id, lookup(admin, device_id)) for device_id in dict.fromkeys(device_ids)]


def expiring_devices(admin: AdminClient, before_epoch: int) -> list[Target]:
    return [Target(found.device_id or found.managed_object, found.managed_object)
            for found in certificates(admin, certificate_query(expiring_before=before_epoch))]


def group_id(admin: AdminClient, name: str) -> str:
    """The id of the one device group called `name`."""
    query = f"$filter=(has(c8y_IsDeviceGroup) and name eq {quoted(name)})"
    found = [managed_object_id(d) for d in read_all(admin, INVENTORY, "managedObjects", {"query": query}, what="groups")
             if d.get("name") == name]  # a wildcard in the name must not match others
    found = [f for f in found if f]
    if not found:
        raise BadInput(f"--group {name}: the tenant has no device group of that name")
    if len(found) > 1:
        raise BadInput(f"--group {name}: the tenant has {len(found)} device groups of that name ({', '.join(found)})")
    return found[0]
