"""A request body that should be a JSON object, as the tenant's REST routes read it."""

from __future__ import annotations

import json


def json_object(body: bytes) -> dict | None:
    """The body's JSON object; None for anything else (not JSON, nested past recursion, an array...)."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
