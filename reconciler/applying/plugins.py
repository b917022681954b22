"""The backends a real run uses: the tenant over HTTPS and the MQTT test connection."""

from __future__ import annotations

from reconciler.c8y.authority import TenantAuthority
from reconciler.c8y.mqtt_check import test_connection
from reconciler.planning.backends import Backends


def default_backends() -> Backends:
    return Backends(authority=TenantAuthority, test_connection=test_connection)
