"""What `reconcile fleet status` reads from the tenant: every device's certificate fragment in order
of expiry (sorted by the tenant: `$orderby=deviceCertificate.notAfterEpoch`), the devices without
one, and the registrations never used for an enrollment."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.c8y.admin import AdminClient
from reconciler.c8y.certificate_fragment import FRAGMENT, DeviceCertificate, managed_object_id, read_fragment, text
from reconciler.c8y.collections import PageReport, read_all

INVENTORY = "/inventory/managedObjects"
REGISTRATIONS = "/devicecontrol/newDeviceRequests"


def quoted(value: str) -> str:
    """A string literal of the query language: single quotes, a quote doubled."""
    return "'" + value.replace("'", "''") + "'"


def certificate_query(expiring_before: int | None = None, failing: bool = False) -> str:
    conditions = [f"has({FRAGMENT})"]
    if expiring_before is not None:
        conditions.append(f"{FRAGMENT}.notAfterEpoch le {int(expiring_before)}")
    if failing:
        conditions.append(f"{FRAGMENT}.consecutiveFailures gt 0")
    return f"$filter=({' and '.join(conditions)}) $orderby={FRAGMENT}.notAfterEpoch asc"


WITHOUT_FRAGMENT_QUERY = f"$filter=(has(c8y_IsDevice) and not(has({FRAGMENT}))) $orderby=name asc"


@dataclass
class FleetStatus:
    devices: list[DeviceCertificate] = field(default_factory=list)
    without_fragment: list[tuple[str, str | None]] = field(default_factory=list)  # (managed object id, name)
    unused_registrations: list[tuple[str, str | None]] = field(default_factory=list)  # (device id, status)
    requests: int = 0
    filtered: bool = False

    def rows(self, now_epoch: int) -> list[dict]:
        """One mapping per device, as `fleet status --output json` and the Ansible fleet_info module show it."""
        return [{
            "device": d.device_id, "managed_object": d.managed_object, "serial": d.serial, "not_after": d.not_after,
            "days_left": d.days_left(now_epoch), "renew_at": d.renew_at, "last_run": d.last_run_time,
            "last_status": d.last_run_status, "failures": d.failures, "last_failure_reason": d.last_failure_reason,
        } for d in self.devices]

    def others(self) -> dict:
        """The devices without the fragment and the unused registrations (empty lists when filtered)."""
        return {"without_fragment": [{"managed_object": mo, "name": name} for mo, name in self.without_fragment],
                "unused_registrations": [{"device": d, "status": s} for d, s in self.unused_registrations]}


def certificates(admin: AdminClient, query: str, on_page: PageReport | None = None):
    """The devices the certificate query selects, in the tenant's order, each once: a device that renews
    while the pages are read moves in the order and may come again on a later page."""
    seen = set()
    for document in read_all(admin, INVENTORY, "managedObjects", {"query": query}, what="managed objects", on_page=on_page):
        found = read_fragment(document)
        if found is not None and found.managed_object not in seen:  # a tenant that ignores has() slips nothing in
            seen.add(found.managed_object)
            yield found


def fleet_status(admin: AdminClient, *, expiring_before: int | None = None, failing: bool = False,
                 on_page: PageReport | None = None) -> FleetStatus:
    """With a filter (expiring_before, failing) only the matching certificates; without one, also the
    devices without the fragment and the unused registrations."""
    start = admin.requests_made
    status = FleetStatus(filtered=expiring_before is not None or failing)
    found = list(certificates(admin, certificate_query(expiring_before, failing), on_page))
    # The tenant's order, except that a fragment without a usable notAfterEpoch (missing, a float, a
    # boolean: the tenant may sort those first) goes last, as the README promises.
    status.devices = [d for d in found if d.not_after_epoch is not None] + [d for d in found if d.not_after_epoch is None]
    if not status.filtered:
        for document in read_all(admin, INVENTORY, "managedObjects", {"query": WITHOUT_FRAGMENT_QUERY},
                                 what="managed objects", on_page=on_page):
            mo_id = managed_object_id(document)
            if mo_id and not isinstance(document.get(FRAGMENT), dict):
                status.without_fragment.append((mo_id, text(document.get("name"))))
        for request in read_all(admin, REGISTRATIONS, "newDeviceRequests", what="registrations", on_page=on_page):
            device_id = text(request.get("id"), 128)
            if device_id:
                status.unused_registrations.append((device_id, text(request.get("status"), 40)))
    status.requests = admin.requests_made - start
    return status
