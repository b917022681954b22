"""What happened to each action of an applied plan."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.basics.errors import ReconcileError
from reconciler.planning.model import Action


@dataclass
class ActionResult:
    action: Action
    status: str  # done | failed | rolled-back
    detail: str | None = None


@dataclass
class ApplyOutcome:
    results: list[ActionResult] = field(default_factory=list)
    error: ReconcileError | None = None
    warnings: list[str] = field(default_factory=list)
    tenant_shortfall: str | None = None  # the tenant's certificate was already due: a failure for the backoff
    requests: int = 0  # requests that reached for the tenant in this run: EST, tokens, CA certificates, MQTT, reconnects
    tenant_ca: object | None = None  # tenant_ca.TrustedCa an issued certificate was checked against; None: none checked
