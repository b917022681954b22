"""`reconcile fleet status` over a fleet of 10,500 emulated devices: order, paging, counts of the
requests the tenant received, filters, formats, progress only on a terminal."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import subprocess
import time
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest

from reconciler.c8y.fleet_status import certificate_query, certificates
from tests.fleet_cli import fleet, fragment, seed_fleet
from tests.http_text import admin_answered_by, as_answer
from tests.mosquitto import free_port

COUNT = 10_500


@pytest.fixture(scope="module")
def big_tenant():
    from c8y_emulator.server import TenantEmulator

    with TenantEmulator() as tenant:
        expiries = seed_fleet(tenant, COUNT)
        for n in range(3):
            tenant.register(f"never-{n}", f"password-000{n}")
        yield tenant, expiries


def _inventory_requests(tenant, since: int) -> list[dict]:
    return [{k: v[-1] for k, v in parse_qs(r.query).items()} for r in tenant.requests[since:]
            if r.path == "/inventory/managedObjects"]


def test_every_device_sorted_by_expiry_through_every_page(big_tenant):
    tenant, expiries = big_tenant
    since = len(tenant.requests)
    started = time.monotonic()
    result = fleet(tenant, "status", "--output", "json")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    listed = [row["device"] for row in report["devices"]]
    assert listed == sorted(expiries, key=expiries.get)  # every device with the fragment, soonest first
    assert len(listed) == len(expiries) > 10_000
    assert [row["managed_object"] for row in report["without_fragment"]] == sorted(
        (tenant.inventory.by_external_id("c8y_Serial", f"dev-{n:05d}") for n in range(0, COUNT, 97)),
        key=lambda mo: tenant.inventory.get(mo)["name"])
    assert [r["device"] for r in report["unused_registrations"]] == ["never-0", "never-1", "never-2"]
    first = report["devices"][0]
    assert first["days_left"] == 0 and first["failures"] in (0, 2) and first["serial"]
    pages = _inventory_requests(tenant, since)
    certificate_pages = [p for p in pages if "$orderby=deviceCertificate.notAfterEpoch" in p["query"]]
    assert [p["currentPage"] for p in certificate_pages] == ["1", "2", "3", "4", "5", "6"]
    assert {p["pageSize"] for p in pages} == {"2000"}
    assert "$orderby=deviceCertificate.notAfterEpoch asc" in certificate_pages[0]["query"]
    assert len(tenant.requests) - since == report["requests"] == 6 + 1 + 1  # certificates, without fragment, registrations
    assert "\r" not in result.stderr  # no progress line when stderr is not a terminal
    print(f"fleet status: {len(listed)} devices, {report['requests']} requests, {elapsed:.2f}s for the whole command")
    assert elapsed < 60


def test_expiring_and_failing_filters_are_asked_of_the_tenant(big_tenant):
    tenant, expiries = big_tenant
    now = time.time()
    since = len(tenant.requests)
    result = fleet(tenant, "status", "--expiring-within", "30d", "--output", "json")
    report = json.loads(result.stdout)
    expected = sorted((d for d, e in expiries.items() if e <= now + 30 * 86400), key=expiries.get)
    listed = [row["device"] for row in report["devices"]]
    assert abs(len(listed) - len(expected)) <= 1 and listed == expected[: len(listed)]  # the second between the two clocks
    assert "without_fragment" not in report and report["requests"] == 1
    (page,) = _inventory_requests(tenant, since)
    assert "deviceCertificate.notAfterEpoch le " in page["query"]
    failing = json.loads(fleet(tenant, "status", "--failing", "--output", "json").stdout)
    assert {row["device"] for row in failing["devices"]} == {d for d in expiries if int(d[4:]) % 53 == 0}
    assert all(row["last_failure_reason"] == "the tenant could not be reached" for row in failing["devices"])


def test_csv_and_table(big_tenant):
    tenant, expiries = big_tenant
    rows = list(csv.DictReader(io.StringIO(fleet(tenant, "status", "--output", "csv").stdout)))
    kinds = [row["kind"] for row in rows]
    assert kinds.count("certificate") == len(expiries) and kinds.count("registration") == 3
    assert kinds.count("no-fragment") == len(range(0, COUNT, 97))
    table = fleet(tenant, "status", "--failing").stdout.splitlines()
    assert table[0].split()[:4] == ["DEVICE", "ID", "SERIAL", "NOT"]
    assert table[-1] == f"{sum(1 for d in expiries if int(d[4:]) % 53 == 0)} device(s) with a certificate fragment"


def test_progress_is_drawn_on_a_terminal(big_tenant):
    tenant, _ = big_tenant
    controller, terminal = pty.openpty()
    try:
        result = fleet(tenant, "status", "--output", "json", stderr=terminal, stdout=subprocess.DEVNULL)
        os.close(terminal)
        terminal = None
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if terminal is not None:
            os.close(terminal)
        os.close(controller)
    assert result.returncode == 0
    assert b"fleet status: page 6/6, 10391 objects" in shown


def test_a_fragment_with_odd_values_is_shown_not_fatal(tenant):
    odd = fragment("gw-odd", 1_900_000_000)
    odd["deviceCertificate"].update(notAfterEpoch="soon", consecutiveFailures=-3, lastRun=["x"], subject=None)
    tenant.seed_devices(2, lambda n: odd if n else fragment("dev-00000", 1_800_000_000))
    report = json.loads(fleet(tenant, "status", "--output", "json").stdout)
    assert [row["device"] for row in report["devices"]] == ["dev-00000", "dev-00001"]  # no usable epoch: last
    assert report["devices"][1]["days_left"] is None and report["devices"][1]["failures"] is None


def test_fragments_without_a_usable_expiry_come_last_whatever_the_tenant_sorts_first(tenant):
    def extra(number: int) -> dict:
        made = fragment(f"dev-{number:05d}", 1_800_000_000 + number * 86400)
        odd = {1: True, 2: 1_800_000_000.5, 3: None}  # a boolean, a float, missing
        if number in odd:
            made["deviceCertificate"]["notAfterEpoch"] = odd[number]
        return made

    tenant.seed_devices(5, extra)
    report = json.loads(fleet(tenant, "status", "--output", "json").stdout)
    order = [row["device"] for row in report["devices"]]
    assert order[:2] == ["dev-00000", "dev-00004"] and sorted(order[2:]) == ["dev-00001", "dev-00002", "dev-00003"]


def test_bad_credentials_and_unreachable_tenant(tenant):
    result = fleet(tenant, "status", password="wrong-password")
    assert result.returncode == 6 and "refused the admin credentials (401)" in result.stderr
    nobody = SimpleNamespace(url=f"https://127.0.0.1:{free_port()}", ca_bundle=tenant.ca_bundle, admin_user="admin",
                             admin_password="password", tenant_id="t1")
    result = fleet(nobody, "status")
    assert result.returncode == 8 and "Traceback" not in result.stderr


def test_a_device_seen_on_two_pages_is_listed_once(monkeypatch):
    """A device that renews while the report is read moves to a later page: it is listed once."""
    def page(numbers, total):
        objects = [{"id": str(10_000 + n), "name": f"dev-{n}", **fragment(f"dev-{n}", 1_800_000_000 + n)} for n in numbers]
        body = json.dumps({"managedObjects": objects, "statistics": {"totalPages": total}}).encode()
        return as_answer(b"200\r\ncontent-type: application/json\r\n\r\n" + body)

    answers = iter([page(range(2000), 2), page([5, 2000], 2)])
    admin = admin_answered_by(monkeypatch, lambda: next(answers))
    listed = [d.device_id for d in certificates(admin, certificate_query())]
    assert len(listed) == 2001 and listed.count("dev-5") == 1 and listed[-1] == "dev-2000"


def test_csv_cells_a_spreadsheet_would_run_are_text():
    from c8y_emulator.server import TenantEmulator

    hostile = "=HYPERLINK(\"http://evil\",\"x\")"  # what a device may publish as its failure reason
    with TenantEmulator() as tenant:
        tenant.seed_devices(1, lambda number: fragment("dev-00000", int(time.time()) + 86400, 1, hostile))
        result = fleet(tenant, "status", "--output", "csv")
    (row,) = [row for row in csv.DictReader(io.StringIO(result.stdout)) if row["kind"] == "certificate"]
    assert row["last_failure_reason"] == "'" + hostile
