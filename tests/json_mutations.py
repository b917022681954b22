"""A JSON-aware mutation: the body still parses, but one value has another type or shape.

Byte mutations of JSON mostly make text that is no JSON at all, so the code that walks a
decoded answer (`failedCreationList` items, `status`, `message`) rarely meets a list where it
expects a dict, or a dict where it expects a string. This mutation decodes the body of an
HTTP-text case, swaps one value for another kind, and encodes it again.
"""

from __future__ import annotations

import json
import random

ODD_VALUES = (None, 0, -1, 1.5e308, True, "", "x", [], {}, [1], ["x"], {"a": 1}, [[]], [{}], {"deviceId": ["x"]})


def _paths(value, path=()):
    """Every place in a decoded document, as a tuple of keys and indexes."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, path + (index,))


def _replaced(document, path, new):
    if not path:
        return new
    container = document
    for step in path[:-1]:
        container = container[step]
    container[path[-1]] = new
    return document


def swap_json_value(rng: random.Random, data: bytes, other: bytes) -> bytes:
    head, sep, body = data.rpartition(b"\r\n\r\n")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return data
    path = rng.choice(list(_paths(document)))
    new = rng.choice(ODD_VALUES + (document,))  # the whole document again: self-similar nesting
    return head + sep + json.dumps(_replaced(document, path, json.loads(json.dumps(new)))).encode()
