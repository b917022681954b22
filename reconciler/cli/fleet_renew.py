"""`reconcile fleet renew`: create c8y_RenewCertificate operations, and with --wait follow them to the end."""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta

from reconciler.basics.errors import BadInput, ExitCode
from reconciler.basics.live_line import LiveLine
from reconciler.basics.timestamps import utc_now
from reconciler.c8y.admin import AdminClient, load_admin_credentials
from reconciler.c8y.certificate_fragment import managed_object_id, text
from reconciler.c8y.collections import read_all
from reconciler.c8y.fleet_status import INVENTORY
from reconciler.c8y.fleet_targets import Target, expiring_devices, group_id, named_devices
from reconciler.c8y.operation_watch import follow, follow_bulk
from reconciler.c8y.operations import (
    RENEW_FRAGMENT,
    Operation,
    bulk_children,
    create_bulk,
    create_operation,
    get_bulk,
    open_renewals,
    renew_prototype,
)

HELP = """\
Create c8y_RenewCertificate operations ({"rotateKey": false}, or true with --rotate-key): one per
device for --device and --expiring-within, or one bulk operation for --group (its creationRamp,
--ramp, spaces the devices so that a fleet does not renew in the same second). --retry-failed
BULK_ID makes a bulk operation with failedParentId: only the devices that failed in BULK_ID are
asked again (with BULK_ID's parameters, and a new key if --rotate-key).

The device carries the operation out through the workflow installed by `reconcile install-operation`
(see the README, "From the tenant"). --wait follows the operations until each is SUCCESSFUL or FAILED
(or --timeout passes) and prints each device's result and a summary. --dry-run reads the tenant
and shows what would be created, and creates nothing.
"""

EPILOG = """\
exit codes:
  0  the operations were created (with --wait: every one ended SUCCESSFUL); --dry-run shown
  1  a device is unknown to the tenant (no c8y_Serial), or with --wait an operation ended FAILED
  3  bad input (options, credentials, no such group or bulk operation)
  6  the tenant refused (admin credentials or roles, an operation, an unexpected answer, TLS failure)
  7  --wait: --timeout passed with operations still pending or executing (none failed)
  8  the tenant could not be reached, or was in trouble (5xx, 429)"""

DEFAULT_BULK_RAMP = timedelta(seconds=5)
DEFAULT_TIMEOUT = timedelta(minutes=30)
DEFAULT_POLL = timedelta(seconds=2)


def _say(args, line: str) -> None:
    print(line, file=sys.stderr if args.output == "json" else sys.stdout)


class WaitProgress:
    def __init__(self):
        self.line = LiveLine()
        self.last_trouble: str | None = None

    def __call__(self, done: int, failed: int, total: int) -> None:
        self.line.draw(f"fleet renew: {done}/{total} ended, {failed} failed")

    def done(self) -> None:
        self.line.clear()

    def trouble(self, message: str) -> None:
        """A poll the tenant could not answer: said once per new message, and the wait goes on."""
        if message != self.last_trouble:
            self.done()
            print(f"reconcile: warning: {message}; asking again until --timeout", file=sys.stderr)
            self.last_trouble = message


def _summary(args, operations: list[Operation], names: dict[str, str], not_found: list[str], extra: dict) -> int:
    counts = {s: sum(op.status == s for op in operations) for s in ("SUCCESSFUL", "FAILED")}
    pending = len(operations) - counts["SUCCESSFUL"] - counts["FAILED"]
    rows = [{"device": names.get(op.device or "", op.device_name or op.device), "managed_object": op.device,
             "operation": op.id, "status": op.status, "failure_reason": op.failure_reason, "result": op.result}
            for op in operations]
    if args.output == "json":
        print(json.dumps({**extra, "operations": rows, "successful": counts["SUCCESSFUL"], "failed": counts["FAILED"],
                          "pending": pending, "not_found": not_found}, indent=2))
    else:
        for row in rows:
            said = row["failure_reason"] if row["status"] == "FAILED" else row["result"]
            print(f"{row['device']}: operation {row['operation']} {row['status']}{' — ' + said if said else ''}")
        for device in not_found:
            print(f"{device}: not found on the tenant (no c8y_Serial external id); nothing created")
        if args.wait:
            print(f"{counts['SUCCESSFUL']} successful, {counts['FAILED']} failed, {pending} still pending")
    if not_found or counts["FAILED"]:
        return int(ExitCode.ERROR)
    if args.wait and pending:
        return int(ExitCode.TIMED_OUT)
    return int(ExitCode.OK)


def _wait_options(args) -> dict:
    poll = max(0.2, (args.poll or DEFAULT_POLL).total_seconds())
    return {"timeout": (args.timeout or DEFAULT_TIMEOUT).total_seconds(), "poll": poll}


def _single(args, admin: AdminClient, targets: list[Target]) -> int:
    known = [t for t in targets if t.managed_object]
    not_found = [t.device_id for t in targets if not t.managed_object]
    names = {t.managed_object: t.device_id for t in known}
    running = open_renewals(admin) if known else {}  # asked again, a device is not renewed twice over
    for target in known:
        if target.managed_object in running:
            op = running[target.managed_object]
            _say(args, f"{target.device_id}: operation {op.id} is already {op.status}; none created")
    fresh = [t for t in known if t.managed_object not in running]
    if args.dry_run:
        for target in fresh:
            _say(args, f"{target.device_id}: would create {RENEW_FRAGMENT} (rotateKey={str(args.rotate_key).lower()}) "
                       f"on managed object {target.managed_object}")
        return _summary(args, [], names, not_found, {"dry_run": True, "would_create": [t.device_id for t in fresh]})
    pause = args.ramp.total_seconds() if args.ramp else 0.0
    created = [running[t.managed_object] for t in known if t.managed_object in running]
    for number, target in enumerate(fresh):
        if number and pause:
            time.sleep(pause)
        created.append(create_operation(admin, target.managed_object, args.rotate_key))
        _say(args, f"{target.device_id}: operation {created[-1].id} created")
    if args.wait and created:
        progress = WaitProgress()
        try:
            created = follow(admin, created, on_change=progress, on_trouble=progress.trouble, **_wait_options(args))
        finally:
            progress.done()
    return _summary(args, created, names, not_found, {"dry_run": False})


def _group_members(admin: AdminClient, group: str) -> dict[str, str]:
    """Managed object id → name of the group's members."""
    members = {}
    for data in read_all(admin, INVENTORY, "managedObjects", {"query": f"bygroupid({group})"}, what="group members"):
        found = managed_object_id(data)
        if found:
            members[found] = text(data.get("name")) or found
    return members


def _already_open(args, admin: AdminClient, members: dict[str, str]) -> list[str]:
    """Members that have a renewal open already. A bulk operation reaches every member, so they get a
    second one (their device refuses it while the first runs): named, so that nobody is surprised."""
    running = open_renewals(admin) if members else {}
    named = []
    for managed_object, name in members.items():
        if managed_object in running:
            op = running[managed_object]
            _say(args, f"{name}: operation {op.id} is already {op.status}; the bulk operation gives it a second one")
            named.append(name)
    return named


def _bulk(args, admin: AdminClient) -> int:
    ramp = (args.ramp if args.ramp is not None else DEFAULT_BULK_RAMP).total_seconds()
    if args.group is not None:
        group = group_id(admin, args.group)
        prototype, target = renew_prototype(args.rotate_key), {"group": group}
        members = _group_members(admin, group)
        what = f"group {args.group} ({len(members)} devices)"
    else:
        parent = get_bulk(admin, args.retry_failed)
        if parent is None:
            raise BadInput(f"--retry-failed {args.retry_failed}: the tenant has no such bulk operation")
        asked = (parent.prototype or {}).get(RENEW_FRAGMENT)
        if not isinstance(asked, dict):  # a mistyped id must not send another operation (a restart...) again
            raise BadInput(f"--retry-failed {args.retry_failed}: that bulk operation is not a {RENEW_FRAGMENT} operation")
        prototype = renew_prototype(args.rotate_key or asked.get("rotateKey") is True)
        target = {"failed_parent": args.retry_failed}
        failed = [op for op in bulk_children(admin, args.retry_failed) if op.status == "FAILED"]
        members = {op.device: op.device_name or op.device for op in failed if op.device}
        what = f"the {len(failed)} failed device(s) of bulk operation {args.retry_failed}"
    already_open = _already_open(args, admin, members)
    if args.dry_run:
        _say(args, f"would create a bulk {RENEW_FRAGMENT} operation over {what}, {ramp:g}s apart")
        return _summary(args, [], {}, [], {"dry_run": True, "would_create": what, "already_open": already_open})
    bulk = create_bulk(admin, prototype=prototype, ramp_seconds=ramp, **target)
    _say(args, f"bulk operation {bulk.id} created over {what}, {ramp:g}s apart")
    children: list[Operation] = []
    if args.wait:
        progress = WaitProgress()
        try:
            followed, children = follow_bulk(admin, bulk.id, on_change=progress, on_trouble=progress.trouble,
                                             **_wait_options(args))
            bulk = followed or bulk  # the tenant never answered a poll: what creating it said
        finally:
            progress.done()
    extra = {"dry_run": False, "bulk_operation": bulk.id, "general_status": bulk.general_status, "already_open": already_open}
    if args.wait and bulk.progress and bulk.progress.all > len(children):  # devices the ramp had not reached yet
        children += [Operation("-", None, None, "PENDING", None, None)] * (bulk.progress.all - len(children))
    return _summary(args, children, {}, [], extra)


def run(args) -> int:
    admin = AdminClient(args.tenant, load_admin_credentials(args.credentials_file), args.ca_bundle)
    if args.device:
        return _single(args, admin, named_devices(admin, args.device))
    if args.expiring_within is not None:
        before = int(utc_now().timestamp() + args.expiring_within.total_seconds())
        return _single(args, admin, expiring_devices(admin, before))
    return _bulk(args, admin)
