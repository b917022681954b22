"""The backends a real run uses."""

from __future__ import annotations

from reconciler.backends import Backends


def default_backends() -> Backends:
    return Backends()
