"""The result of a run, as stable JSON (documented in the README) or as text that reads like a plan."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from reconciler.basics.errors import ExitCode, ReconcileError
from reconciler.basics.timestamps import format_time, human_time
from reconciler.planning.model import Action, Kind, Plan

if TYPE_CHECKING:  # a converged device never applies anything: keep these off its import path
    from reconciler.applying.result import ActionResult, ApplyOutcome
    from reconciler.planning.backoff import Waiting
    from reconciler.runs.run_history import RunHistory

REPORT_FORMAT = 1


@dataclass
class Report:
    device_id: str
    dry_run: bool
    plan: Plan
    before: dict
    outcome: ApplyOutcome | None = None
    after: dict | None = None
    error: ReconcileError | None = None
    detailed_exitcode: bool = False
    notes: list[str] = field(default_factory=list)
    history: RunHistory | None = None  # the run history once this run was recorded (not on a dry run)
    backoff: Waiting | None = None  # the plan needs the tenant, which failed earlier runs: not asked now
    extra_warnings: list[str] = field(default_factory=list)  # after the run: e.g. the twin was not published
    # Moments (name -> aware UTC time) besides the renewal time at which a converged verdict stops
    # holding with no input changed (e.g. a publication due daily): the stamp answers only before the earliest.
    deadlines: dict[str, datetime] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        return (list(self.outcome.warnings) if self.outcome else []) + self.extra_warnings

    @property
    def tenant_ca(self) -> dict | None:
        """Which CA this run checked an issued certificate against (or that none was); None: nothing was checked."""
        trust = self.outcome.tenant_ca if self.outcome else None
        return None if trust is None else trust.as_dict()

    @property
    def tenant_shortfall(self) -> str | None:
        """Why a successful run still counts as the tenant failing us (a certificate already due)."""
        return self.outcome.tenant_shortfall if self.outcome else None

    @property
    def backoff_message(self) -> str | None:
        if self.backoff is None:
            return None
        failed = f"{self.backoff.failures} run{'s' if self.backoff.failures != 1 else ''}"
        return (
            f"{self.device_id}: backing off after the tenant failed {failed} in a row ({self.backoff.reason}); "
            f"no request before {human_time(self.backoff.until)} (--force asks now): {self.plan.message}"
        )

    @property
    def failed(self) -> ReconcileError | None:
        return self.error or (self.outcome.error if self.outcome else None)

    @property
    def changed(self) -> bool:
        return bool(self.outcome and any(r.status != "failed" for r in self.outcome.results))

    @property
    def status(self) -> str:
        if self.failed:
            return "failed"
        if self.plan.blockers:
            return "blocked"
        if self.backoff is not None:
            return "backoff"
        if self.dry_run:
            return "pending" if self.plan.actions else "converged"
        return "changed" if self.changed else "converged"

    def exit_code(self) -> int:
        if self.failed:
            return int(self.failed.exit_code)
        if self.plan.blockers:
            return int(ExitCode.BLOCKED)
        if self.backoff is not None:
            return int(ExitCode.BACKING_OFF)
        pending = self.plan.actions if self.dry_run else self.changed
        return int(ExitCode.CHANGED if pending and self.detailed_exitcode else ExitCode.OK)


def _action_dict(action: Action, result: ActionResult | None, applied: bool) -> dict:
    return {
        "action": action.kind.value,
        "reason": action.reason.value,
        "message": action.message,
        "target": None if action.target is None else str(action.target),
        "status": result.status if result else ("not-run" if applied else "planned"),
        "detail": result.detail if result else None,
    }


def report_dict(report: Report) -> dict:
    results = report.outcome.results if report.outcome else []
    by_action = {id(r.action): r for r in results}
    applied = report.outcome is not None
    actions = [_action_dict(a, by_action.get(id(a)), applied) for a in report.plan.actions]
    # a rollback is not in the plan: it follows the action that failed
    actions += [_action_dict(r.action, r, applied) for r in results if r.action.kind is Kind.ROLLBACK]
    failed = report.failed
    return {
        "format": REPORT_FORMAT,
        "device_id": report.device_id,
        "dry_run": report.dry_run,
        "status": report.status,
        "changed": report.changed,
        "reasons": list(report.plan.findings),
        "message": report.plan.message,
        "actions": actions,
        "blockers": [{"reason": b.reason.value, "message": b.message} for b in report.plan.blockers],
        "before": report.before,
        "after": report.after,
        "error": None if failed is None else _error_dict(failed),
        "notes": list(report.notes),
        "warnings": list(report.warnings),
        "tenant_ca": report.tenant_ca,
        "backoff": None if report.backoff is None else {
            "until": format_time(report.backoff.until), "failures": report.backoff.failures, "reason": report.backoff.reason,
        },
    }


def _error_dict(error: ReconcileError) -> dict:
    return {"exit_code": int(error.exit_code), "message": error.message}


def error_document(error: ReconcileError) -> str:
    """The JSON answer when a run fails before it has a plan (bad input, lock held)."""
    document = {"format": REPORT_FORMAT, "status": "failed", "error": _error_dict(error)}
    return json.dumps(document, indent=2) + "\n"


def render_json(report: Report) -> str:
    return json.dumps(report_dict(report), indent=2) + "\n"


def render_text(report: Report) -> str:
    lines = [f"note: {note}" for note in report.notes] + [f"warning: {warning}" for warning in report.warnings]
    if report.dry_run:
        if report.plan.actions:
            lines.append(f"Plan for {report.device_id} ({len(report.plan.actions)} actions, dry run: nothing changed):")
            lines.append(f"  [{report.plan.findings[0]}] {report.plan.message}")
            for number, action in enumerate(report.plan.actions, 1):
                lines.append(f"  {number}. {action.kind.value:<18} [{action.reason.value}] {action.message}")
    for blocker in report.plan.blockers:
        lines.append(f"Blocked [{blocker.reason.value}]: {blocker.message}")
    if report.status in ("converged", "changed"):
        lines.append(summary(report))
    return "\n".join(lines) + ("\n" if lines else "")


def summary(report: Report) -> str:
    """One sentence on how the run ended (the last line of the text output, the JSON log's result)."""
    if report.failed:
        return report.failed.message
    if report.plan.blockers:
        return report.plan.blockers[0].message
    if report.backoff is not None:
        return report.backoff_message
    if report.status == "pending":
        return report.plan.message
    if report.status == "converged":
        cert = report.before.get("certificate", {})
        if not cert.get("serial"):
            return f"{report.device_id}: converged."
        return (f"{report.device_id}: converged; certificate serial {cert['serial']} valid until "
                f"{cert['not_after']}, renewal due {cert['renew_at']}.")
    after = (report.after or {}).get("certificate") or {}
    return (f"{report.device_id}: changed; certificate serial {after.get('serial')} valid until "
            f"{after.get('not_after')}, renewal due {after.get('renew_at')}.")


def render_progress(result: ActionResult) -> str:
    mark = {"done": "ok", "failed": "FAILED", "rolled-back": "ROLLED BACK"}[result.status]
    action = result.action
    detail = f" — {result.detail}" if result.detail else ""
    return f"[{mark}] {action.kind.value} [{action.reason.value}] {action.message}{detail}"
