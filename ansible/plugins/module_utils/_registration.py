# Copyright (c) 2026 tedge-cert-reconciler contributors
# Apache License 2.0 or GNU General Public License v3.0+, at your choice (see LICENSES/)
# SPDX-License-Identifier: Apache-2.0 OR GPL-3.0-or-later

"""Registrations on the tenant made idempotent over `reconcile register`'s functions.

A device whose registration is already pending is left alone (its password cannot be read back),
unless `replace`. `absent` removes pending registrations only: an enrolled device stays on the tenant.
Check mode asks the tenant for each device's status and changes nothing.
"""

import re

CHANGES = ("created", "updated", "replaced", "removed")


def registrations(devices, state):
    """The module's `devices` as the engine's DeviceRegistration list; BadInput names the entry."""
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


def _register(admin, devices, replace, check_mode):
    from reconciler.c8y.registration import delete_registration, register_devices, registration_status

    rows = [dict(id=d.device_id, result="present", status=registration_status(admin, d.device_id), reason=None) for d in devices]
    to_register = [(device, row) for device, row in zip(devices, rows) if row["status"] is None or replace]
    if check_mode:
        for device, row in to_register:
            row["result"] = "replaced" if row["status"] else "created"
        return rows
    for device, row in to_register:
        if row["status"] is not None:
            delete_registration(admin, device.device_id)
    if to_register:
        report = register_devices(admin, [device for device, row in to_register])
        for (device, row), outcome in zip(to_register, report.results):
            replaced = row["status"] is not None and outcome.result != "failed"
            row.update(result="replaced" if replaced else outcome.result, reason=outcome.reason)
    return rows


def _remove(admin, devices, check_mode):
    from reconciler.c8y.registration import delete_registration, registration_status

    rows = []
    for device in devices:
        status = registration_status(admin, device.device_id)
        removed = status is not None and (check_mode or delete_registration(admin, device.device_id))
        rows.append(dict(id=device.device_id, result="removed" if removed else "absent", status=status, reason=None))
    return rows


def reconcile_registrations(admin, devices, state, replace, check_mode):
    """Per-device rows: id, result (created updated replaced present removed absent failed), status, reason."""
    if state == "absent":
        return _remove(admin, devices, check_mode)
    return _register(admin, devices, replace, check_mode)


def tenant_ca_of(admin):
    """The tenant's CA certificate as the module returns it (reading changes nothing: also in check mode)."""
    from reconciler.c8y.trusted_certificates import fetch_tenant_ca
    from reconciler.basics.errors import TenantRefused

    try:
        return fetch_tenant_ca(admin).as_dict()
    except TenantRefused as err:
        raise TenantRefused(f"{err} (or set fetch_tenant_ca: false)") from None


def summary(rows):
    counts = {}
    for row in rows:
        counts[row["result"]] = counts.get(row["result"], 0) + 1
    text = ", ".join(f"{count} {result}" for result, count in sorted(counts.items()))
    failures = "; ".join(f"{row['id']}: {row['reason']}" for row in rows if row["result"] == "failed")
    return f"{text or 'no devices'}" + (f" ({failures})" if failures else "")
