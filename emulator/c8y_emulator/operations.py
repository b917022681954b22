"""Device operations and bulk operations, with the statuses Cumulocity gives them.

An operation goes PENDING → EXECUTING → SUCCESSFUL | FAILED (with failureReason); whoever
executes it (in tests, the mapper stand-in) sets the status. A bulk operation creates one child
operation per device of its group (or per failed child of `failedParentId`) from `startDate` on,
`creationRamp` seconds apart, on a thread of its own; its progress is counted from the children.
Every status an operation takes is kept in `history` with the time, so tests can follow it.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

STATUSES = ("PENDING", "EXECUTING", "SUCCESSFUL", "FAILED")
TERMINAL = ("SUCCESSFUL", "FAILED")
READ_ONLY = ("id", "self", "creationTime", "deviceId", "deviceName", "bulkOperationId")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class OperationError(ValueError):
    """A request the tenant would refuse (422) with this message."""


@dataclass
class Change:
    status: str
    at: float  # time.time()
    failure_reason: str | None = None


@dataclass
class Operations:
    lock: threading.RLock = field(default_factory=threading.RLock)
    documents: dict = field(default_factory=dict)  # id → operation
    history: dict = field(default_factory=dict)  # id → [Change]
    bulk: dict = field(default_factory=dict)  # id → bulk operation (without progress)
    bulk_targets: dict = field(default_factory=dict)  # bulk id → [managed object ids]
    stopping: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(50_001))

    def __post_init__(self):
        self.changed = threading.Condition(self.lock)

    # --- single operations ----------------------------------------------------------------------

    def create(self, device_id: str, device_name: str | None, fragments: dict, bulk_id: str | None = None) -> dict:
        with self.lock:
            op_id = str(next(self._ids))
            document = {k: copy.deepcopy(v) for k, v in fragments.items() if k not in READ_ONLY + ("status", "failureReason")}
            document.update(id=op_id, deviceId=device_id, status="PENDING", creationTime=iso(datetime.now(timezone.utc)))
            if device_name:
                document["deviceName"] = device_name
            if bulk_id:
                document["bulkOperationId"] = bulk_id
            self.documents[op_id] = document
            self.history[op_id] = [Change("PENDING", time.time())]
            self.changed.notify_all()
            return copy.deepcopy(document)

    def get(self, op_id: str) -> dict | None:
        with self.lock:
            found = self.documents.get(op_id)
            return copy.deepcopy(found) if found else None

    def update(self, op_id: str, changes: dict) -> dict | None:
        with self.lock:
            document = self.documents.get(op_id)
            if document is None:
                return None
            status = changes.get("status", document["status"])
            if status not in STATUSES:
                raise OperationError(f"status must be one of {', '.join(STATUSES)}")
            if document["status"] in TERMINAL and status != document["status"]:
                raise OperationError(f"operation {op_id} is already {document['status']}")
            reason = changes.get("failureReason")
            if reason is not None and not isinstance(reason, str):
                raise OperationError("failureReason must be a string")
            for key, value in changes.items():
                if key not in READ_ONLY:
                    document[key] = copy.deepcopy(value)
            if status != self.history[op_id][-1].status:
                self.history[op_id].append(Change(status, time.time(), document.get("failureReason")))
            self.changed.notify_all()
            return copy.deepcopy(document)

    def select(self, device_id=None, status=None, fragment=None, bulk_id=None) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(d) for d in self.documents.values()
                    if (device_id is None or d["deviceId"] == device_id) and (status is None or d["status"] == status)
                    and (fragment is None or fragment in d) and (bulk_id is None or d.get("bulkOperationId") == bulk_id)]

    def statuses(self, op_id: str) -> list[str]:
        with self.lock:
            return [change.status for change in self.history.get(op_id, [])]

    # --- bulk operations --------------------------------------------------------------------------

    def create_bulk(self, request: dict, targets: list[tuple[str, str | None]], start: datetime, ramp: float) -> dict:
        """A bulk operation over `targets` [(managed object id, name)], started on its own thread."""
        with self.lock:
            bulk_id = str(next(self._ids))
            document = {k: copy.deepcopy(v) for k, v in request.items() if k not in ("id", "self", "progress", "status", "generalStatus")}
            document.update(id=bulk_id, status="ACTIVE", startDate=iso(start), creationRamp=ramp)
            self.bulk[bulk_id] = document
            self.bulk_targets[bulk_id] = [target for target, _ in targets]
        thread = threading.Thread(target=self._run_bulk, args=(bulk_id, targets, start, ramp), daemon=True, name=f"bulk-{bulk_id}")
        thread.start()
        return self.get_bulk(bulk_id)

    def _run_bulk(self, bulk_id: str, targets, start: datetime, ramp: float) -> None:
        delay = (start - datetime.now(timezone.utc)).total_seconds()
        if delay > 0 and self.stopping.wait(delay):
            return
        with self.lock:
            self.bulk[bulk_id]["status"] = "IN_PROGRESS"
            prototype = self.bulk[bulk_id].get("operationPrototype", {})
        for number, (target, name) in enumerate(targets):
            if number and ramp > 0 and self.stopping.wait(ramp):
                return
            with self.lock:
                if self.bulk[bulk_id]["status"] == "CANCELED":
                    return
                self.create(target, name, prototype, bulk_id)

    def children(self, bulk_id: str) -> list[dict]:
        return self.select(bulk_id=bulk_id)

    def get_bulk(self, bulk_id: str) -> dict | None:
        with self.lock:
            document = self.bulk.get(bulk_id)
            if document is None:
                return None
            shown = copy.deepcopy(document)
            children = self.children(bulk_id)
            counts = {status: sum(c["status"] == status for c in children) for status in STATUSES}
            total = len(self.bulk_targets[bulk_id])
            not_created = total - len(children)
            shown["progress"] = {"pending": counts["PENDING"] + not_created, "executing": counts["EXECUTING"],
                                 "successful": counts["SUCCESSFUL"], "failed": counts["FAILED"], "all": total}
            finished = not_created == 0 and counts["PENDING"] + counts["EXECUTING"] == 0
            if document["status"] == "ACTIVE":
                general = "SCHEDULED"
            elif finished:
                general = "FAILED" if counts["FAILED"] else "SUCCESSFUL"
                shown["status"] = "COMPLETED"
            else:
                general = "EXECUTING_WITH_ERRORS" if counts["FAILED"] else "EXECUTING"
            shown["generalStatus"] = general
            return shown

    def failed_devices(self, bulk_id: str) -> list[str]:
        return [c["deviceId"] for c in self.children(bulk_id) if c["status"] == "FAILED"]

    def all_bulk(self) -> list[dict]:
        with self.lock:
            return [self.get_bulk(b) for b in self.bulk]
