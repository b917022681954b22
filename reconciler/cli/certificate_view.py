"""The certificate as `show` and `status` present it: its facts under the desired state (or the
defaults, without one), why it cannot be shown, and its text form."""

from __future__ import annotations

from reconciler.basics.timestamps import utc_now
from reconciler.desired.source import DesiredOrDefaults, load_spec_or_defaults
from reconciler.device.observe import observe_cert
from reconciler.runs.facts import cert_facts


def certificate_facts(args) -> tuple[DesiredOrDefaults, dict]:
    """The desired state (or defaults) and the facts of the certificate to show (--cert, else paths.cert)."""
    source = load_spec_or_defaults(args.config_dir, args.file)
    path = getattr(args, "cert", None) or source.spec.paths.cert
    return source, cert_facts(observe_cert(path), source.spec.validity.renew_before, utc_now())


def certificate_problem(facts: dict) -> str | None:
    """Why the certificate cannot be shown, or None."""
    if not facts["exists"]:
        return f"{facts['path']}: no such certificate"
    if facts["error"]:
        return f"{facts['path']}: {facts['error']}"
    return None


def certificate_text(facts: dict, renew_before) -> str:
    due = "yes" if facts["renewal_due"] else "no"
    state = "EXPIRED" if facts["expired"] else f"{facts['days_left']:g} days left"
    return (
        f"certificate:  {facts['path']}\n"
        f"subject:      {facts['subject']}\n"
        f"issuer:       {facts['issuer']}\n"
        f"serial:       {facts['serial']}\n"
        f"valid from:   {facts['not_before']}\n"
        f"valid until:  {facts['not_after']} ({state})\n"
        f"renew at:     {facts['renew_at']} (renew_before {renew_before}; due now: {due})\n"
        f"key:          {facts['key_algorithm']}\n"
        f"sha256:       {facts['fingerprint_sha256']}"
    )
