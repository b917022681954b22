"""`reconcile fleet status`: every device's certificate, soonest expiry first, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import json
import sys
import time

from reconciler.basics.errors import ExitCode
from reconciler.basics.live_line import LiveLine
from reconciler.basics.timestamps import format_time, utc_now
from reconciler.c8y.admin import AdminClient, load_admin_credentials
from reconciler.c8y.fleet_status import FleetStatus, fleet_status

HELP = """\
Every device that carries the twin fragment deviceCertificate, sorted by the tenant on
deviceCertificate.notAfterEpoch (soonest expiry first), with days left, renewal time, last run and
consecutive failures; then the devices without the fragment (no reconcile run has published yet)
and the registrations never used for an enrollment. The whole inventory is read in pages of 2000;
on a terminal, progress is shown on stderr.

--expiring-within D and --failing narrow the certificate list (both may be given) and leave out the
other two lists. Devices whose fragment has no usable notAfterEpoch come last.
"""

EPILOG = """\
exit codes:
  0  the report was printed (whatever it shows)
  3  bad input (options, credentials)
  6  the tenant refused (admin credentials, a query, an unexpected answer, TLS failure)
  8  the tenant could not be reached, or was in trouble (5xx, 429)"""

COLUMNS = ("device", "managed_object", "serial", "not_after", "days_left", "renew_at", "last_run", "last_status",
           "failures", "last_failure_reason")
CSV_COLUMNS = ("kind",) + COLUMNS + ("registration_status",)


class PageProgress:
    """`fleet status: page 3/5, 6000 objects` redrawn on a terminal's stderr; silent elsewhere."""

    def __init__(self, stream=None):
        self.line = LiveLine(stream)

    def __call__(self, page: int, total: int | None, seen: int) -> None:
        of = f"/{total}" if total else ""
        self.line.draw(f"fleet status: page {page}{of}, {seen} objects")

    def done(self) -> None:
        self.line.clear()


def _table(status: FleetStatus, rows: list[dict], out) -> None:
    headers = ("DEVICE", "ID", "SERIAL", "NOT AFTER", "DAYS", "RENEW AT", "LAST RUN", "STATUS", "FAILS", "LAST FAILURE")
    cells = [[("-" if row[c] is None else str(row[c])) for c in COLUMNS] for row in rows]
    widths = [max([len(h)] + [len(line[i]) for line in cells]) for i, h in enumerate(headers[:-1])]
    for line in [list(headers)] + cells:
        print("  ".join(v.ljust(w) for v, w in zip(line[:-1], widths)) + "  " + line[-1], file=out)
    print(f"{len(rows)} device(s) with a certificate fragment", file=out)
    if not status.filtered:
        names = ", ".join(f"{name or '?'} ({mo})" for mo, name in status.without_fragment)
        print(f"{len(status.without_fragment)} device(s) without the fragment{': ' + names if names else ''}", file=out)
        unused = ", ".join(f"{device} ({state or '?'})" for device, state in status.unused_registrations)
        print(f"{len(status.unused_registrations)} registration(s) never used{': ' + unused if unused else ''}", file=out)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str | int | float:
    """A CSV cell a spreadsheet shows as text: what devices publish could start like a formula."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(status: FleetStatus, rows: list[dict], out) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(["certificate"] + [_cell(row[c]) for c in COLUMNS] + [""])
    blank = [""] * (len(COLUMNS) - 2)
    for mo, name in status.without_fragment:
        writer.writerow(["no-fragment", _cell(name), _cell(mo)] + blank + [""])
    for device, state in status.unused_registrations:
        writer.writerow(["registration", _cell(device), ""] + blank + [_cell(state)])


def run(args) -> int:
    admin = AdminClient(args.tenant, load_admin_credentials(args.credentials_file), args.ca_bundle)
    now = utc_now()
    now_epoch = int(now.timestamp())
    expiring_before = now_epoch + int(args.expiring_within.total_seconds()) if args.expiring_within is not None else None
    progress = PageProgress()
    started = time.monotonic()
    try:
        status = fleet_status(admin, expiring_before=expiring_before, failing=args.failing, on_page=progress)
    finally:
        progress.done()
    rows = status.rows(now_epoch)
    if args.output == "json":
        document = {"generated_at": format_time(now), "devices": rows, "requests": status.requests,
                    "seconds": round(time.monotonic() - started, 3), "filtered": status.filtered}
        if not status.filtered:
            document.update(status.others())
        print(json.dumps(document, indent=2))
    elif args.output == "csv":
        _csv(status, rows, sys.stdout)
    else:
        _table(status, rows, sys.stdout)
        print(f"fleet status: {status.requests} requests in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return int(ExitCode.OK)
