"""The tenant's inventory: managed objects (devices and groups) and their external ids.

A device that enrolls gets a managed object (c8y_IsDevice, name, type, numeric id) and the external
id `c8y_Serial/<device id>`, as Cumulocity creates them on a first enrollment. Tests seed large
fleets with `seed_devices`, which skips HTTP and certificates.
"""

from __future__ import annotations

import copy
import itertools
import threading
from datetime import datetime, timezone

SERIAL = "c8y_Serial"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Inventory:
    def __init__(self):
        self.lock = threading.RLock()
        self.objects: dict[str, dict] = {}  # managed object id → its document (without `self`)
        self.external: dict[tuple[str, str], str] = {}  # (type, external id) → managed object id
        self._ids = itertools.count(10_001)

    def _new_id(self) -> str:
        return str(next(self._ids))

    def create(self, fragments: dict) -> dict:
        with self.lock:
            mo_id = self._new_id()
            now = _now()
            document = {**copy.deepcopy(fragments), "id": mo_id, "creationTime": now, "lastUpdated": now}
            document.setdefault("childAssets", [])
            self.objects[mo_id] = document
            return document

    def device_enrolled(self, device_id: str, name: str | None = None, type: str | None = None) -> str:
        """The managed object of `device_id`, made on its first enrollment; its id."""
        with self.lock:
            known = self.external.get((SERIAL, device_id))
            if known is not None:
                return known
            document = self.create({"name": name or device_id, "type": type or "thin-edge.io", "c8y_IsDevice": {},
                                    "owner": f"device_{device_id}"})
            self.external[(SERIAL, device_id)] = document["id"]
            return document["id"]

    def seed_devices(self, fragments_of) -> list[str]:
        """Create one device per (device id, extra fragments) of `fragments_of`, fast; their ids."""
        ids = []
        with self.lock:
            for device_id, extra in fragments_of:
                mo_id = self.device_enrolled(device_id)
                self.objects[mo_id].update(copy.deepcopy(extra))
                ids.append(mo_id)
        return ids

    def by_external_id(self, id_type: str, external_id: str) -> str | None:
        with self.lock:
            return self.external.get((id_type, external_id))

    def external_ids_of(self, mo_id: str) -> list[tuple[str, str]]:
        with self.lock:
            return [key for key, value in self.external.items() if value == mo_id]

    def get(self, mo_id: str) -> dict | None:
        with self.lock:
            found = self.objects.get(mo_id)
            return copy.deepcopy(found) if found is not None else None

    def update(self, mo_id: str, fragments: dict) -> dict | None:
        """Merge `fragments` into the object as Cumulocity's PUT does: a null value removes the fragment."""
        with self.lock:
            document = self.objects.get(mo_id)
            if document is None:
                return None
            for key, value in fragments.items():
                if key in ("id", "self", "creationTime", "lastUpdated"):
                    continue
                if value is None:
                    document.pop(key, None)
                else:
                    document[key] = copy.deepcopy(value)
            document["lastUpdated"] = _now()
            return copy.deepcopy(document)

    def create_group(self, name: str, members: list[str]) -> str:
        """A device group (c8y_IsDeviceGroup) whose child assets are the managed objects `members`."""
        with self.lock:
            document = self.create({"name": name, "type": "c8y_DeviceGroup", "c8y_IsDeviceGroup": {}})
            document["childAssets"] = [{"id": m} for m in members]
            return document["id"]

    def add_child(self, group_id: str, member: str) -> bool:
        with self.lock:
            group = self.objects.get(group_id)
            if group is None or member not in self.objects:
                return False
            if all(child["id"] != member for child in group["childAssets"]):
                group["childAssets"].append({"id": member})
            return True

    def children(self, group_id: str) -> list[str]:
        with self.lock:
            group = self.objects.get(group_id)
            return [child["id"] for child in group["childAssets"]] if group else []

    def query(self, query) -> list[dict]:
        """The objects (live documents: hold `lock` while reading them) that `query` selects, in its order."""
        with self.lock:
            members: dict[str, set] = {}

            def members_of(group_id: str) -> set:
                if group_id not in members:
                    members[group_id] = set(self.children(group_id))
                return members[group_id]

            return query.run(list(self.objects.values()), members_of)
