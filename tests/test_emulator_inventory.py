"""The emulator's tenant side over real HTTPS: inventory queries and paging, groups, operations and
bulk operations, as the fleet tool relies on them."""

from __future__ import annotations

import time

import pytest
import requests


@pytest.fixture
def admin(tenant):
    session = requests.Session()
    session.auth = (f"{tenant.tenant_id}/{tenant.admin_user}", tenant.admin_password)
    yield lambda method, path, **kw: session.request(method, tenant.url + path, verify=str(tenant.ca_bundle), timeout=10, **kw)
    session.close()


def _names(answer) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [m["name"] for m in answer.json()["managedObjects"]]


def _expiry(number: int) -> dict:
    """Every third device has no certificate fragment; the others expire in reverse number order."""
    if number % 3 == 0:
        return {}
    return {"deviceCertificate": {"notAfterEpoch": 2_000_000_000 - number, "serialNumber": f"{number:x}",
                                  "lastRun": {"status": "failed" if number % 5 == 0 else "converged"},
                                  "consecutiveFailures": 1 if number % 5 == 0 else 0}}


def test_queries_filter_sort_and_page(tenant, admin):
    tenant.seed_devices(30, _expiry)
    query = "$filter=(has(deviceCertificate) and deviceCertificate.notAfterEpoch le 1999999990) $orderby=deviceCertificate.notAfterEpoch asc"
    first = admin("GET", "/inventory/managedObjects", params={"query": query, "pageSize": 4, "withTotalPages": "true"})
    assert _names(first) == ["dev-00029", "dev-00028", "dev-00026", "dev-00025"]
    assert first.json()["statistics"] == {"currentPage": 1, "pageSize": 4, "totalPages": 4}
    last = admin("GET", "/inventory/managedObjects", params={"query": query, "pageSize": 4, "currentPage": 4})
    assert _names(last) == ["dev-00011", "dev-00010"] and "next" not in last.json()
    failing = admin("GET", "/inventory/managedObjects",
                    params={"query": "$filter=(deviceCertificate.consecutiveFailures gt 0 or deviceCertificate.lastRun.status eq 'fail*') "
                                     "$orderby=deviceCertificate.notAfterEpoch desc", "pageSize": 100})
    assert _names(failing) == ["dev-00005", "dev-00010", "dev-00020", "dev-00025"]
    bare = admin("GET", "/inventory/managedObjects", params={"query": "has(c8y_IsDevice) and not(has(deviceCertificate))", "pageSize": 2000})
    assert _names(bare) == [f"dev-{n:05d}" for n in range(0, 30, 3)]
    newest = admin("GET", "/inventory/managedObjects", params={"query": "$orderby=name desc", "pageSize": 1})
    assert _names(newest) == ["dev-00029"]


def test_groups_and_bygroupid(tenant, admin):
    tenant.seed_devices(6)
    group = tenant.create_group("lab", ["dev-00001", "dev-00004"])
    assert _names(admin("GET", "/inventory/managedObjects", params={"query": f"bygroupid({group})"})) == ["dev-00001", "dev-00004"]
    third = tenant.inventory.by_external_id("c8y_Serial", "dev-00002")
    assert admin("POST", f"/inventory/managedObjects/{group}/childAssets", json={"managedObject": {"id": third}}).status_code == 201
    found = admin("GET", "/inventory/managedObjects", params={"query": "has(c8y_IsDeviceGroup) and name eq 'lab'"})
    assert _names(found) == ["lab"]
    assert len(found.json()["managedObjects"][0]["childAssets"]["references"]) == 3


@pytest.mark.parametrize("query", ["has(x", "name eq", "name like 'x'", "name eq 'x' and", "(name eq 'x'))",
                                   "$orderby=name sideways", "$top=3", "name eq 'unterminated", "bygroupid()", "not has(x)",
                                   "eq eq 1", "a.b. eq 1", "name eq " + "9" * 5000, "(" * 40 + "has(x)" + ")" * 40])
def test_bad_queries_are_refused_with_400(tenant, admin, query):
    answer = admin("GET", "/inventory/managedObjects", params={"query": query})
    assert answer.status_code == 400, query
    assert answer.json()["error"] == "inventory/invalidQuery"


@pytest.mark.parametrize("params", [{"pageSize": "2001"}, {"pageSize": "0"}, {"currentPage": "0"}, {"pageSize": "x"}])
def test_bad_paging_is_refused(tenant, admin, params):
    assert admin("GET", "/inventory/managedObjects", params=params).status_code == 400


def test_fragment_updates_merge_and_null_deletes(tenant, admin):
    (mo,) = tenant.seed_devices(1)
    assert admin("PUT", f"/inventory/managedObjects/{mo}", json={"deviceCertificate": {"notAfterEpoch": 5}, "other": 1}).status_code == 200
    assert admin("PUT", f"/inventory/managedObjects/{mo}", json={"other": None}).status_code == 200
    document = admin("GET", f"/inventory/managedObjects/{mo}").json()
    assert document["deviceCertificate"] == {"notAfterEpoch": 5} and "other" not in document and "c8y_IsDevice" in document
    assert admin("PUT", f"/inventory/managedObjects/{mo}", data=b"[1]").status_code == 422
    assert admin("GET", "/inventory/managedObjects", auth=("admin", "wrong")).status_code == 401


def test_operations_follow_their_statuses(tenant, admin):
    (mo,) = tenant.seed_devices(1)
    created = admin("POST", "/devicecontrol/operations", json={"deviceId": mo, "c8y_RenewCertificate": {"rotateKey": False}})
    assert created.status_code == 201 and created.json()["status"] == "PENDING"
    op = created.json()["id"]
    assert admin("POST", "/devicecontrol/operations", json={"deviceId": "424242", "x": {}}).status_code == 422
    assert admin("PUT", f"/devicecontrol/operations/{op}", json={"status": "DONE"}).status_code == 422
    admin("PUT", f"/devicecontrol/operations/{op}", json={"status": "EXECUTING"})
    failed = admin("PUT", f"/devicecontrol/operations/{op}", json={"status": "FAILED", "failureReason": "no token"})
    assert failed.json()["failureReason"] == "no token"
    assert admin("PUT", f"/devicecontrol/operations/{op}", json={"status": "SUCCESSFUL"}).status_code == 422
    assert tenant.operations.statuses(op) == ["PENDING", "EXECUTING", "FAILED"]
    listed = admin("GET", "/devicecontrol/operations", params={"deviceId": mo, "fragmentType": "c8y_RenewCertificate"}).json()
    assert [o["id"] for o in listed["operations"]] == [op]


def _wait_bulk(admin, bulk, until, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        document = admin("GET", f"/devicecontrol/bulkoperations/{bulk}").json()
        if until(document):
            return document
        time.sleep(0.05)
    raise AssertionError(f"bulk operation {bulk}: {document}")


def test_bulk_operation_ramps_then_retries_only_the_failed(tenant, admin):
    tenant.seed_devices(4)
    group = tenant.create_group("lab", [f"dev-{n:05d}" for n in range(4)])
    answer = admin("POST", "/devicecontrol/bulkoperations", json={
        "groupId": group, "startDate": "2020-01-01T00:00:00.000Z", "creationRamp": 0.2,
        "operationPrototype": {"description": "renew", "c8y_RenewCertificate": {}}})
    assert answer.status_code == 201, answer.text
    bulk = answer.json()["id"]
    document = _wait_bulk(admin, bulk, lambda d: d["progress"]["pending"] == 4 and len(tenant.operations.children(bulk)) == 4)
    times = sorted(tenant.operations.history[c["id"]][0].at for c in tenant.operations.children(bulk))
    assert times[-1] - times[0] >= 0.55  # three ramps of 0.2 s
    assert document["generalStatus"] == "EXECUTING"
    children = sorted(tenant.operations.children(bulk), key=lambda c: c["id"])
    for child in children[:3]:
        admin("PUT", f"/devicecontrol/operations/{child['id']}", json={"status": "SUCCESSFUL"})
    admin("PUT", f"/devicecontrol/operations/{children[3]['id']}", json={"status": "FAILED", "failureReason": "broken"})
    done = _wait_bulk(admin, bulk, lambda d: d["status"] == "COMPLETED")
    assert done["progress"] == {"pending": 0, "executing": 0, "successful": 3, "failed": 1, "all": 4}
    assert done["generalStatus"] == "FAILED"
    retry = admin("POST", "/devicecontrol/bulkoperations", json={
        "failedParentId": bulk, "startDate": "2020-01-01T00:00:00.000Z", "operationPrototype": {"c8y_RenewCertificate": {}}}).json()
    _wait_bulk(admin, retry["id"], lambda d: len(tenant.operations.children(retry["id"])) == 1)
    assert [c["deviceId"] for c in tenant.operations.children(retry["id"])] == [children[3]["deviceId"]]
    refused = admin("POST", "/devicecontrol/bulkoperations", json={"groupId": group, "failedParentId": bulk,
                                                                   "startDate": "2020-01-01T00:00:00Z", "operationPrototype": {}})
    assert refused.status_code == 422


def test_pending_registrations_are_listed(tenant, admin):
    tenant.register("gw-new-1", "password-0001")
    tenant.register("gw-new-2", "password-0002", approved=False)
    listed = admin("GET", "/devicecontrol/newDeviceRequests", params={"pageSize": 2000}).json()
    assert {(r["id"], r["status"]) for r in listed["newDeviceRequests"]} == {
        ("gw-new-1", "WAITING_FOR_CONNECTION"), ("gw-new-2", "PENDING_ACCEPTANCE")}


def test_ten_thousand_devices_seed_fast(tenant):
    started = time.monotonic()
    ids = tenant.seed_devices(10_000, _expiry)
    assert len(set(ids)) == 10_000 and time.monotonic() - started < 5
