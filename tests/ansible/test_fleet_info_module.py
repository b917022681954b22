"""The fleet_info module in this process, against the emulator: the same facts as `reconcile fleet
status --output json`, filters asked of the tenant, errors as the CLI's exit codes."""

from __future__ import annotations

import json
import time

import pytest

from tests.ansible.module_call import call_module
from tests.fleet_cli import fleet, seed_fleet

pytestmark = pytest.mark.usefixtures("collection_imports")


def admin_args(tenant, **options) -> dict:
    return {"tenant": {"url": tenant.url, "ca_bundle": str(tenant.ca_bundle)}, "user": tenant.admin_user,
            "password": tenant.admin_password, "tenant_id": tenant.tenant_id, **options}


def test_the_same_facts_as_fleet_status(tenant):
    expiries = seed_fleet(tenant, 2500, every_without=50)
    tenant.register("never-1", "password-0001")
    failed, result = call_module("fleet_info", admin_args(tenant))
    assert not failed and result["changed"] is False and result["exit_code"] == 0
    assert [row["device"] for row in result["devices"]] == sorted(expiries, key=expiries.get)
    assert len(result["without_fragment"]) == 50 and result["unused_registrations"] == [
        {"device": "never-1", "status": "WAITING_FOR_CONNECTION"}]
    assert result["requests"] == 2 + 1 + 1
    cli = json.loads(fleet(tenant, "status", "--output", "json").stdout)
    assert cli["devices"] == result["devices"] and cli["without_fragment"] == result["without_fragment"]
    assert tenant.admin_password not in json.dumps(result)


def test_filters_and_check_mode(tenant):
    expiries = seed_fleet(tenant, 300)
    failed, result = call_module("fleet_info", admin_args(tenant, expiring_within="60d", failing=True), check_mode=True)
    assert not failed
    soon = time.time() + 60 * 86400
    assert {row["device"] for row in result["devices"]} == {d for d, e in expiries.items() if e <= soon and int(d[4:]) % 53 == 0}
    assert result["without_fragment"] == [] and result["requests"] == 1


def test_bad_duration_and_refused_credentials(tenant):
    failed, result = call_module("fleet_info", admin_args(tenant, expiring_within="soon"))
    assert failed and result["exit_code"] == 3 and "expiring_within" in result["msg"]
    failed, result = call_module("fleet_info", admin_args(tenant, password="wrong-password"))
    assert failed and result["exit_code"] == 6 and "401" in result["msg"]
