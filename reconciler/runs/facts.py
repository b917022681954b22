"""Observations as JSON-ready facts for reports and Ansible results. Never key material."""

from __future__ import annotations

from datetime import datetime

from reconciler.basics.timestamps import format_time as _time
from reconciler.desired.types import RenewBefore
from reconciler.planning.observation import CertFacts, KeyFacts, Observation
from reconciler.planning.renewal import renewal_time


def key_facts(facts: KeyFacts) -> dict:
    info = facts.file
    return {
        "path": str(info.path),
        "exists": info.exists,
        "algorithm": facts.algorithm,
        "mode": None if info.mode is None else f"{info.mode:04o}",
        "uid": info.uid,
        "gid": info.gid,
        "error": facts.error,
    }


def cert_facts(facts: CertFacts, renew_before: RenewBefore, now: datetime) -> dict:
    info = facts.file
    out = {
        "path": str(info.path),
        "exists": info.exists,
        "mode": None if info.mode is None else f"{info.mode:04o}",
        "uid": info.uid,
        "gid": info.gid,
        "error": facts.error,
    }
    cert = facts.info
    if cert is not None:
        due = renewal_time(cert.not_before, cert.not_after, renew_before)
        out.update(
            subject_cn=cert.subject_cn,
            subject=cert.subject,
            issuer=cert.issuer,
            serial=cert.serial,
            not_before=_time(cert.not_before),
            not_after=_time(cert.not_after),
            renew_at=_time(due),
            renewal_due=now >= due,
            expired=now >= cert.not_after,
            days_left=round((cert.not_after - now).total_seconds() / 86400, 2),
            fingerprint_sha256=cert.fingerprint_sha256,
            key_algorithm=cert.key_algorithm,
        )
    return out


def observation_facts(obs: Observation, renew_before: RenewBefore, now: datetime) -> dict:
    return {
        "key": key_facts(obs.key),
        "certificate": cert_facts(obs.cert, renew_before, now),
        "candidate": cert_facts(obs.candidate, renew_before, now) if obs.candidate.file.exists else None,
        "backups": len(obs.backups),
    }
