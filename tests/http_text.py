"""Tenant answers written as HTTP text, so that a fuzz case mutates status, headers and body as one;
and the admin client they are fed to."""

from __future__ import annotations

import re
from typing import Callable

from reconciler.basics.errors import ReconcileError
from reconciler.c8y import admin as admin_module
from reconciler.c8y.admin import AdminClient, AdminCredentials
from reconciler.c8y.http import Answer


def as_answer(data: bytes) -> Answer:
    """A lenient reading of `status\\r\\nname: value\\r\\n\\r\\nbody`, handed over as requests
    does: Latin-1 header values, lower-case names; status 0 when the first line has no number."""
    head, _, body = data.partition(b"\r\n\r\n")
    first, *lines = head.split(b"\r\n")
    status = re.match(rb"\s*(\d{1,4})", first)
    headers = {}
    for line in lines:
        name, colon, value = line.decode("latin-1").partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return Answer(int(status.group(1)) if status else 0, headers, body)


def admin_answered_by(monkeypatch, answer_now: Callable[[], Answer]) -> AdminClient:
    """The real admin client with only its transport replaced: each request gets `answer_now()`."""
    monkeypatch.setattr(admin_module, "send", lambda *args, **kwargs: answer_now())
    return AdminClient("https://t12345.example.com", AdminCredentials("admin", "secret", "t12345"))


def outcomes_of(steps) -> list:
    """What each step returned, or the ReconcileError it ended with (the documented way to fail)."""
    outcomes = []
    for step in steps:
        try:
            outcomes.append(step())
        except ReconcileError as err:
            outcomes.append(err)
    return outcomes
