"""Following operations until they end: single operations by id, or a bulk operation by its progress.

A wait may last half an hour, so a tenant in trouble for a moment (5xx, 429, a dropped connection:
Unreachable) does not end it: the failure is told to `on_trouble` and the next poll asks again, until
the timeout. Only a refusal (TenantRefused) ends the wait at once.
"""

from __future__ import annotations

import time
from typing import Callable

from reconciler.basics.errors import TenantRefused, Unreachable
from reconciler.c8y.admin import AdminClient
from reconciler.c8y.operations import BulkOperation, Operation, bulk_children, get_bulk, get_operation

Report = Callable[[int, int, int], None]  # (finished, failed, all)
Trouble = Callable[[str], None]  # the message of a poll that failed for now


def _told(on_trouble: Trouble | None, err: Unreachable) -> None:
    if on_trouble:
        on_trouble(err.message)


def follow(admin: AdminClient, operations: list[Operation], *, timeout: float, poll: float,
           on_change: Report | None = None, on_trouble: Trouble | None = None, clock=time.monotonic,
           sleep=time.sleep) -> list[Operation]:
    """The operations as they are when all have ended or `timeout` seconds have passed."""
    deadline = clock() + timeout
    current = {op.id: op for op in operations}
    while True:
        try:
            for op_id, op in current.items():
                if not op.finished:
                    current[op_id] = get_operation(admin, op_id)
        except Unreachable as err:  # the rest of this round waits for the next poll
            _told(on_trouble, err)
        done = [op for op in current.values() if op.finished]
        if on_change:
            on_change(len(done), sum(op.status == "FAILED" for op in done), len(current))
        if len(done) == len(current) or clock() >= deadline:
            return list(current.values())
        sleep(min(poll, max(0.0, deadline - clock())))


def follow_bulk(admin: AdminClient, bulk_id: str, *, timeout: float, poll: float, on_change: Report | None = None,
                on_trouble: Trouble | None = None, clock=time.monotonic,
                sleep=time.sleep) -> tuple[BulkOperation | None, list[Operation]]:
    """The bulk operation and its children once its progress shows every device done, or at `timeout`
    (None and no children when the tenant could not be asked even once)."""
    deadline = clock() + timeout
    bulk = None
    while True:
        try:
            bulk = get_bulk(admin, bulk_id)
            if bulk is None:
                raise TenantRefused(f"bulk operation {bulk_id} is gone from the tenant")
            progress = bulk.progress
            if on_change and progress:
                on_change(progress.successful + progress.failed, progress.failed, progress.all)
            ended = bulk.general_status in ("SUCCESSFUL", "FAILED", "CANCELED")  # also a group without devices
            if (progress and progress.finished) or ended or clock() >= deadline:
                return bulk, bulk_children(admin, bulk_id)
        except Unreachable as err:
            _told(on_trouble, err)
            if clock() >= deadline:
                return bulk, []
        sleep(min(poll, max(0.0, deadline - clock())))
