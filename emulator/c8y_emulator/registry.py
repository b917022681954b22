"""The tenant's new-device requests (registrations) and the devices that enrolled."""

from __future__ import annotations

import threading
from dataclasses import dataclass

WAITING = "WAITING_FOR_CONNECTION"
PENDING_ACCEPTANCE = "PENDING_ACCEPTANCE"
ACCEPTED = "ACCEPTED"


@dataclass
class Registration:
    device_id: str
    one_time_password: str
    status: str = WAITING
    name: str | None = None
    type: str | None = None


class Registry:
    def __init__(self):
        self.lock = threading.Lock()
        self.registrations: dict[str, Registration] = {}
        self.enrolled: dict[str, str] = {}  # device id → serial of the last certificate

    def register(self, device_id: str, one_time_password: str, approved: bool = True, **extra) -> str:
        """Create or update a registration; 'created' or 'updated'."""
        with self.lock:
            existed = device_id in self.registrations
            status = WAITING if approved else PENDING_ACCEPTANCE
            self.registrations[device_id] = Registration(device_id, one_time_password, status, **extra)
            return "updated" if existed else "created"

    def approve(self, device_id: str) -> None:
        with self.lock:
            self.registrations[device_id].status = WAITING

    def get(self, device_id: str) -> Registration | None:
        with self.lock:
            return self.registrations.get(device_id)

    def delete(self, device_id: str) -> bool:
        with self.lock:
            return self.registrations.pop(device_id, None) is not None

    def consume(self, device_id: str, serial: str) -> Registration | None:
        """A registration is used up by a successful enrollment (the one-time password is spent);
        the registration it was (None for a re-enrollment)."""
        with self.lock:
            self.enrolled[device_id] = serial
            return self.registrations.pop(device_id, None)

    def pending(self) -> list[Registration]:
        """Registrations never used for an enrollment."""
        with self.lock:
            return list(self.registrations.values())
