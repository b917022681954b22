"""Faults a test can inject into the emulator's answers, each for the next N matching requests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

KINDS = {
    "pending",  # 202 + Retry-After: `retry_after`
    "status",  # an error `status` with a JSON body (e.g. 500, 503 with Retry-After)
    "html",  # an error `status` with an HTML page from an openresty front end
    "slow",  # answer after `delay` seconds
    "truncated",  # promise more bytes than are sent, then close
    "garbage",  # 200 with bytes that are no certificate
    "oversized",  # 200 with `size` bytes
    "wrong-key",  # a certificate for another key
    "wrong-cn",  # a certificate for another device id
    "expired",  # a certificate that has already expired
    "foreign-ca",  # a certificate from a CA that is not the tenant's
    "reset",  # close the connection without an answer
}


@dataclass
class Fault:
    kind: str
    path: str  # which endpoint: a path suffix such as "simpleenroll"
    times: int = 1
    status: int = 500
    retry_after: str | None = None
    delay: float = 0.0
    size: int = 0
    seen: int = 0


@dataclass
class Faults:
    lock: threading.Lock = field(default_factory=threading.Lock)
    queue: list[Fault] = field(default_factory=list)

    def add(self, fault: Fault) -> None:
        if fault.kind not in KINDS:
            raise ValueError(f"unknown fault {fault.kind!r}; one of {sorted(KINDS)}")
        with self.lock:
            self.queue.append(fault)

    def take(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.queue:
                if path.endswith(fault.path):
                    fault.seen += 1
                    if fault.seen >= fault.times:
                        self.queue.remove(fault)
                    return fault
        return None
