# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""Registrations on the tenant made idempotent over `reconcile register`'s functions.

A device whose registration is already pending is left alone (its password cannot be read back),
unless `replace`. A device that has enrolled (the tenant knows its c8y_Serial) is left alone too,
whatever its pending registration, unless `replace_enrolled`: a new registration would hand out a
new one-time password for it (as `reconcile register --replace` does).
`absent` removes pending registrations only: an enrolled device stays on the tenant.
Check mode asks the tenant for each device's status and changes nothing.

The rows are filled in as the work goes, so that a task that ends by an exception still reports
what it did: `changed` per device says whether the tenant was changed for it (a deletion counts).
"""

import re

from ansible_collections.tedge_cert.c8y_ca.plugins.module_utils._library import engine_loading

CHANGES = ("created", "updated", "replaced", "reregistered", "removed")
LEFT_ALONE = ("present", "enrolled")


def registrations(devices, state):
    """The module's `devices` as the engine's DeviceRegistration list; BadInput names the entry."""
    with engine_loading():  # pydantic's plugins off for these imports only
        from reconciler.c8y.registration import DeviceRegistration, check_one_time_password
        from reconciler.basics.errors import BadInput
        from reconciler.desired.types import DEVICE_ID_PATTERN

    out, seen = [], set()
    for number, device in enumerate(devices):
        where = f"devices[{number}]"
        device_id = device["id"]
        if not re.match(DEVICE_ID_PATTERN, device_id):
            raise BadInput(f"{where}.id: {device_id!r} is not a valid device id (1 to 64 letters, digits or _ . : @ -)")
        if device_id in seen:
            raise BadInput(f"{where}.id: {device_id} is listed twice")
        seen.add(device_id)
        password = device["one_time_password"] or ""
        if state == "present":
            if not password:
                raise BadInput(f"{where}.one_time_password: required with state=present")
            check_one_time_password(f"{where}.one_time_password", password)
        out.append(DeviceRegistration(device_id, password, name=device["name"], type=device["type"]))
    return out


def new_rows(devices):
    """One row per device, undecided (result None) until the work on it is done."""
    return [dict(id=d.device_id, result=None, status=None, managed_object_id=None, changed=False, reason=None) for d in devices]


def _inspect(admin, device, row):
    """The pending registration's status, and whether the device has enrolled.

    Both, always: a device can have enrolled and still have a registration (a leftover one, even
    ACCEPTED), and being enrolled is what protects it from a new one-time password."""
    from reconciler.c8y.identity import managed_object_id
    from reconciler.c8y.registration import registration_status

    row["status"] = registration_status(admin, device.device_id)
    row["managed_object_id"] = managed_object_id(admin, device.device_id)


def _planned(row, replace, replace_enrolled):
    """What to do with a device: leave it (present, enrolled), or the result it gets when registered."""
    enrolled, pending = row["managed_object_id"] is not None, row["status"] is not None
    if enrolled and not replace_enrolled:  # first: `replace` alone never reaches an enrolled device (as the CLI)
        return "enrolled"
    if pending and not replace:
        return "present"
    if enrolled:
        return "reregistered"
    return "replaced" if pending else "created"


def _register(admin, devices, rows, replace, replace_enrolled, check_mode):
    from reconciler.c8y.registration import delete_registration, register_devices

    to_register = []
    for device, row in zip(devices, rows):
        _inspect(admin, device, row)
        planned = _planned(row, replace, replace_enrolled)
        if planned in LEFT_ALONE:
            row["result"] = planned
            if planned == "enrolled":  # in the CLI's words
                row["reason"] = f"already enrolled (managed object {row['managed_object_id']}); not registered again"
        elif check_mode:
            row.update(result=planned, changed=True)
        else:
            to_register.append((device, row, planned))
    for device, row, planned in to_register:
        if row["status"] is not None:
            row["changed"] = delete_registration(admin, device.device_id) or row["changed"]
    if to_register:
        report = register_devices(admin, [device for device, row, planned in to_register], skip_enrolled=False)
        for (device, row, planned), outcome in zip(to_register, report.results):
            failed = outcome.result == "failed"
            result = outcome.result if failed or planned == "created" else planned
            row.update(result=result, reason=outcome.reason, changed=row["changed"] or not failed)


def _remove(admin, devices, rows, check_mode):
    from reconciler.c8y.registration import delete_registration, registration_status

    for device, row in zip(devices, rows):
        row["status"] = registration_status(admin, device.device_id)
        removed = row["status"] is not None and (check_mode or delete_registration(admin, device.device_id))
        row.update(result="removed" if removed else "absent", changed=bool(removed))


def reconcile_registrations(admin, devices, rows, state, replace, replace_enrolled, check_mode):
    """Fill `rows` (new_rows(devices)): result (created updated replaced reregistered present enrolled removed
    absent failed), the pending registration's status, the managed object id, changed, reason."""
    if state == "absent":
        _remove(admin, devices, rows, check_mode)
    else:
        _register(admin, devices, rows, replace, replace_enrolled, check_mode)


def interrupted(rows, error):
    """The rows after the task ended by `error`: a device whose work was not done is `failed`, with the error's text."""
    for row in rows:
        if row["result"] is None:
            row.update(result="failed", reason=f"not done: {getattr(error, 'message', error)}")
    return rows


def tenant_ca_of(admin):
    """The tenant's CA certificate as the module returns it (reading changes nothing: also in check mode)."""
    from reconciler.basics.errors import TenantRefused
    from reconciler.c8y.trusted_certificates import ROLES, fetch_tenant_ca

    try:
        return fetch_tenant_ca(admin).as_dict()
    except TenantRefused as err:
        # Only a user who lacks the role for this read (a 403, which the engine answers by naming ROLES) is
        # helped by not reading it; wrong credentials or a TLS failure would fail the registration all the same.
        if f"(this needs {ROLES})" not in err.message:
            raise
        raise TenantRefused(f"{err} (or set fetch_tenant_ca: false)") from None


def summary(rows):
    counts = {}
    for row in rows:
        counts[row["result"]] = counts.get(row["result"], 0) + 1
    text = ", ".join(f"{count} {result}" for result, count in sorted(counts.items()))
    failures = "; ".join(f"{row['id']}: {row['reason']}" for row in rows if row["result"] == "failed")
    return f"{text or 'no devices'}" + (f" ({failures})" if failures else "")
