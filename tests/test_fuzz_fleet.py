"""Fuzz: what the tenant answers `reconcile fleet` (inventory pages with deviceCertificate fragments,
registrations, identity, operations, bulk operations) gives results or a documented error
(ReconcileError subclasses), never another exception, never a hang; and the emulator's query parser
answers any query with a result or QueryError (its 400)."""

from __future__ import annotations

from c8y_emulator.query import Query, QueryError
from reconciler.basics.errors import ReconcileError
from reconciler.c8y.certificate_fragment import DeviceCertificate
from reconciler.c8y.fleet_status import FleetStatus, fleet_status
from reconciler.c8y.identity import managed_object_id
from reconciler.c8y.operation_watch import follow, follow_bulk
from reconciler.c8y.operations import (
    BulkOperation,
    Operation,
    create_bulk,
    create_operation,
    open_renewals,
    renew_prototype,
)
from tests.fuzz_harness import cases, fuzz
from tests.http_text import admin_answered_by, as_answer, outcomes_of
from tests.json_mutations import swap_json_value
from tests.mutations import Mutator, token_insertion

SEED = 7012
CASES = cases(10_000)
JSON = b"content-type: application/json\r\n\r\n"
FRAGMENT = (b'{"serialNumber":"2b","issuer":"CN=management,O=Cumulocity,C=United States","subject":"CN=gw-0001,O=Thin Edge",'
            b'"notBefore":"2026-01-01T00:00:00Z","notAfter":"2027-01-01T00:00:00Z","renewAt":"2026-12-02T00:00:00Z",'
            b'"notAfterEpoch":1798761600,"renewAtEpoch":1796169600,"keyAlgorithm":"EC P-256",'
            b'"lastRun":{"time":"2026-12-07T12:00:00Z","status":"converged","exitCode":0},"consecutiveFailures":0,'
            b'"backoffUntil":null,"lastFailureReason":null,"tool":{"name":"tedge-cert-reconciler","version":"0.1.0"}}')
ANSWERS = (
    b"200\r\n" + JSON + b'{"managedObjects":[{"id":"10001","name":"gw-0001","c8y_IsDevice":{},"deviceCertificate":' + FRAGMENT
    + b'},{"id":"10002","name":"gw-0002","deviceCertificate":{"notAfterEpoch":1798761601}}],'
    b'"statistics":{"currentPage":1,"pageSize":2000,"totalPages":1},"self":"https://t/inventory/managedObjects"}',
    b"200\r\n" + JSON + b'{"newDeviceRequests":[{"id":"gw-0009","status":"WAITING_FOR_CONNECTION","self":"https://t/x"}],'
    b'"statistics":{"currentPage":1,"pageSize":2000,"totalPages":1}}',
    b"200\r\n" + JSON + b'{"externalId":"gw-0001","type":"c8y_Serial","managedObject":{"id":"10001","self":"https://t/m/10001"}}',
    b"201\r\n" + JSON + b'{"id":"50001","deviceId":"10001","deviceName":"gw-0001","status":"PENDING","c8y_RenewCertificate":{"rotateKey":false}}',
    b"200\r\n" + JSON + b'{"id":"50001","deviceId":"10001","status":"SUCCESSFUL","c8y_RenewCertificate":{"result":"serial 2c"}}',
    b"200\r\n" + JSON + b'{"id":"50001","deviceId":"10001","status":"FAILED","failureReason":"the tenant refused"}',
    b"201\r\n" + JSON + b'{"id":"50002","groupId":"10011","status":"COMPLETED","generalStatus":"FAILED",'
    b'"progress":{"pending":0,"executing":0,"successful":4,"failed":1,"all":5},"operationPrototype":{"c8y_RenewCertificate":{}}}',
    b"200\r\n" + JSON + b'{"operations":[{"id":"50003","deviceId":"10001","status":"FAILED","failureReason":"x"}],"statistics":{}}',
    b"400\r\n" + JSON + b'{"error":"inventory/invalidQuery","message":"Invalid query"}',
    b"404\r\n" + JSON + b'{"error":"identity/Not Found","message":"External id not found"}',
    b"503\r\ncontent-type: text/html\r\n\r\n<html><title>Service Unavailable</title></html>",
)
JSON_TOKENS = (b"[", b"{", b"}", b'"', b"null", b"[]", b"{}", b"1e999", b"-1", b"true", b"9" * 40, b"\\u0000", b"\\ud800",
               b'"notAfterEpoch":', b'"managedObjects":', b'"totalPages":', b'"progress":', b'"status":"FAILED"', b",", b"\xff")


def test_any_tenant_answer_to_the_fleet_tool_gives_results_or_a_documented_error(monkeypatch):
    answer = None
    admin = admin_answered_by(monkeypatch, lambda: answer)
    operation = Operation("50001", "10001", "gw-0001", "PENDING", None, None)
    clock = iter(range(10**9)).__next__  # each look at the clock is a second later: --wait ends

    def administer(data: bytes):
        nonlocal answer
        answer = as_answer(data)
        return outcomes_of((lambda: fleet_status(admin),
                            lambda: managed_object_id(admin, "gw-0001"),
                            lambda: create_operation(admin, "10001", False),
                            lambda: create_bulk(admin, prototype=renew_prototype(False), ramp_seconds=5, group="10011"),
                            lambda: follow(admin, [operation], timeout=3, poll=1, clock=clock, sleep=lambda s: None),
                            lambda: follow_bulk(admin, "50002", timeout=3, poll=1, clock=clock, sleep=lambda s: None),
                            lambda: open_renewals(admin)))

    def check(outcomes) -> None:
        status, mo, created, bulk, followed, bulk_followed, running = outcomes
        assert isinstance(running, (dict, ReconcileError)), running
        if isinstance(running, dict):
            assert all(isinstance(k, str) and isinstance(v, Operation) for k, v in running.items())
        if isinstance(status, FleetStatus):
            assert all(isinstance(d, DeviceCertificate) for d in status.devices)
            for d in status.devices:
                assert d.not_after_epoch is None or isinstance(d.not_after_epoch, int)
                assert d.days_left(0) is None or isinstance(d.days_left(0), int)
                assert all(value is None or isinstance(value, (str, int)) for value in vars(d).values())
        assert mo is None or isinstance(mo, (str, ReconcileError)), mo
        assert isinstance(created, (Operation, ReconcileError)), created
        assert isinstance(bulk, (BulkOperation, ReconcileError)), bulk
        assert isinstance(followed, (list, ReconcileError)), followed
        assert isinstance(bulk_followed, (tuple, ReconcileError)), bulk_followed

    mutator = Mutator(ANSWERS, SEED, extra=(token_insertion(JSON_TOKENS),) * 3 + (swap_json_value,) * 4)
    fuzz("fleet answers", mutator, CASES, administer, refusals=(), check=check)


QUERIES = (
    b"$filter=(has(deviceCertificate) and deviceCertificate.notAfterEpoch le 1798761600) $orderby=deviceCertificate.notAfterEpoch asc",
    b"$filter=(has(c8y_IsDevice) and not(has(deviceCertificate))) $orderby=name asc",
    b"has(c8y_IsDeviceGroup) and name eq 'lab ''one'' *'",
    b"bygroupid(10011) or (deviceCertificate.consecutiveFailures gt 0 and deviceCertificate.lastRun.status ne 'ok')",
)
QUERY_TOKENS = (b"(", b")", b"'", b"''", b" and ", b" or ", b"not(", b"has(", b"bygroupid(", b" eq ", b" ge ", b"$orderby=",
                b"$filter=", b"*", b".", b",", b" desc", b"1e999", b"-", b"true", b"\x00", b"\xff")
DOCUMENTS = [{"id": "10001", "name": "lab 'one' x", "c8y_IsDeviceGroup": {}},
             {"id": "10002", "name": "gw", "c8y_IsDevice": {}, "deviceCertificate": {"notAfterEpoch": 5, "lastRun": {"status": "ok"}}},
             {"id": "10003", "name": 7, "deviceCertificate": {"notAfterEpoch": "soon", "consecutiveFailures": True}}]


def test_the_emulator_answers_any_query_or_refuses_it():
    def run(data: bytes):
        query = Query(data.decode("latin-1"))
        return query.run(DOCUMENTS, lambda group: {"10002"})

    def check(found) -> None:
        assert isinstance(found, list) and all(d in DOCUMENTS for d in found)

    mutator = Mutator(QUERIES, SEED, extra=(token_insertion(QUERY_TOKENS),) * 4)
    fuzz("emulator query", mutator, cases(3_000), run, refusals=(QueryError,), check=check)
