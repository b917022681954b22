"""The identity API: a device that enrolls gets a managed object the administrator can find."""

from __future__ import annotations

import pytest
import requests

from reconciler.basics.errors import TenantRefused
from reconciler.c8y.admin import AdminClient, AdminCredentials
from reconciler.c8y.identity import managed_object_id
from tests.tenant_device import OTP, make_device


def admin_of(tenant, password: str | None = None) -> AdminClient:
    credentials = AdminCredentials(tenant.admin_user, password or tenant.admin_password, tenant.tenant_id)
    return AdminClient(tenant.url, credentials, tenant.ca_bundle)


def test_enrollment_creates_a_managed_object_found_by_its_serial(tmp_path, tenant):
    tenant.register("gw-0001", OTP)
    assert managed_object_id(admin_of(tenant), "gw-0001") is None  # registered is not yet a device
    result = make_device(tmp_path, tenant).run()
    assert result.returncode == 0, result.stderr
    admin = admin_of(tenant)
    mo_id = managed_object_id(admin, "gw-0001")
    assert mo_id is not None and mo_id.isdigit()
    (lookup,) = [r for r in tenant.requests_to("/identity/externalIds/c8y_Serial/gw-0001")][-1:]
    assert lookup.method == "GET" and lookup.headers["Authorization"] == "Basic"
    managed = requests.get(f"{tenant.url}/inventory/managedObjects/{mo_id}", verify=str(tenant.ca_bundle),
                           auth=(f"{tenant.tenant_id}/{tenant.admin_user}", tenant.admin_password), timeout=10).json()
    assert managed["id"] == mo_id and managed["name"] == "gw-0001" and "c8y_IsDevice" in managed
    assert managed["type"] == "thin-edge.io"
    assert managed["self"].endswith(f"/inventory/managedObjects/{mo_id}")


def test_a_renewal_keeps_the_same_managed_object(tenant):
    first = tenant.inventory.device_enrolled("gw-0002", "Gateway 2", "custom")
    assert tenant.inventory.device_enrolled("gw-0002") == first
    assert tenant.inventory.get(first)["name"] == "Gateway 2"
    assert managed_object_id(admin_of(tenant), "gw-0002") == first


def test_unknown_device_is_none_and_bad_credentials_are_refused(tenant):
    assert managed_object_id(admin_of(tenant), "no-such-device") is None
    with pytest.raises(TenantRefused, match="401"):
        managed_object_id(admin_of(tenant, "wrong-password"), "gw-0001")
    answer = requests.get(f"{tenant.url}/inventory/managedObjects/99999", verify=str(tenant.ca_bundle),
                          auth=(tenant.admin_user, tenant.admin_password), timeout=10)
    assert answer.status_code == 404


def test_device_ids_are_quoted_in_the_path(tenant):
    tenant.inventory.device_enrolled("gw:odd@id")
    assert managed_object_id(admin_of(tenant), "gw:odd@id") is not None
    assert tenant.requests[-1].path == "/identity/externalIds/c8y_Serial/gw%3Aodd%40id"
